package io.basalt.model;

import java.nio.file.Path;

/** Detects a model's format from its path and opens it. */
public final class ModelFormats {
    private ModelFormats() {}

    /**
     * Opens a model: a directory (Hugging Face safetensors layout) or a file (GGUF, llama2.c,
     * llm.c, or a single .safetensors file). Every failure is a {@link ModelFormatException}.
     */
    public static Checkpoint open(Path path) {
        throw new UnsupportedOperationException("not yet implemented");
    }
}
