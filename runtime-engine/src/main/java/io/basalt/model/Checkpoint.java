package io.basalt.model;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

/**
 * An opened model file or directory: its metadata and its memory-mapped tensors.
 *
 * <p>{@code metadata} holds what the format carries besides tensors: the parsed {@code config.json}
 * for safetensors (Jackson's Map/List/Number/String view), the key-value pairs for GGUF, and the
 * header fields for llama2.c ({@code llama2c.*}) and llm.c ({@code llmc.*}). The tensors stay valid
 * until {@link #close()}.
 */
public record Checkpoint(Path path, Format format, Map<String, Object> metadata,
                         Map<String, TensorInfo> tensors, Arena arena) implements AutoCloseable {

    public Checkpoint {
        metadata = Collections.unmodifiableMap(metadata);
        tensors = Collections.unmodifiableMap(tensors);
    }

    /** The named tensor, or a {@link ModelFormatException} naming the file and the missing tensor. */
    public TensorInfo tensor(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new ModelFormatException(path, "missing tensor '" + name + "'");
        return t;
    }

    /** The named tensor, checking its shape; a mismatch is a {@link ModelFormatException}. */
    public TensorInfo tensor(String name, long... expectedShape) {
        TensorInfo t = tensor(name);
        if (!t.hasShape(expectedShape)) {
            throw new ModelFormatException(path, "tensor '" + name + "' has shape "
                    + java.util.Arrays.toString(t.shape()) + " but the model configuration implies "
                    + java.util.Arrays.toString(expectedShape));
        }
        return t;
    }

    public boolean has(String name) { return tensors.containsKey(name); }

    @Override
    public void close() { arena.close(); }
}
