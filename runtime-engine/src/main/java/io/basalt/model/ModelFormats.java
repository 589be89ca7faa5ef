package io.basalt.model;

import io.basalt.model.gguf.GgufReader;
import io.basalt.model.llama2c.Llama2cReader;
import io.basalt.model.llmc.LlmcReader;
import io.basalt.model.safetensors.SafetensorsReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/** Detects a model's format from its path and opens it. */
public final class ModelFormats {
    private ModelFormats() {}

    /**
     * Opens a model: a directory (Hugging Face safetensors layout) or a file (GGUF, llama2.c,
     * llm.c, or a single .safetensors file). Every failure is a {@link ModelFormatException}.
     */
    public static Checkpoint open(Path path) {
        return switch (detect(path)) {
            case SAFETENSORS -> SafetensorsReader.read(path);
            case GGUF -> GgufReader.read(path);
            case LLMC -> LlmcReader.read(path);
            case LLAMA2C -> Llama2cReader.read(path);
        };
    }

    /**
     * The format of {@code path}, from the magic bytes first (they cannot lie about a .bin's
     * flavour the way a file name can) and the file name second.
     */
    public static Format detect(Path path) {
        if (Files.isDirectory(path)) return Format.SAFETENSORS;
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, "no such file or directory (the model path does not exist)");
        }
        if (!Files.isRegularFile(path)) throw new ModelFormatException(path, "not a regular file or directory");
        ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long size;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            size = ch.size();
            while (head.hasRemaining() && ch.read(head) > 0) { /* fill up to 8 bytes */ }
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot read the model file: " + e, e);
        }
        if (size == 0) throw new ModelFormatException(path, "the model file is empty");
        head.flip();
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (head.remaining() >= 4 && head.get(0) == 'G' && head.get(1) == 'G' && head.get(2) == 'U' && head.get(3) == 'F') {
            return Format.GGUF;
        }
        if (head.remaining() >= 4 && head.getInt(0) == LlmcReader.MAGIC) return Format.LLMC;
        if (name.endsWith(".safetensors")) return Format.SAFETENSORS;
        if (name.endsWith(".bin")) return Format.LLAMA2C;
        throw new ModelFormatException(path, "unrecognized model file: not GGUF (no \"GGUF\" magic), not an llm.c "
                + "checkpoint (no 20240326 magic), and not named .safetensors or .bin");
    }
}
