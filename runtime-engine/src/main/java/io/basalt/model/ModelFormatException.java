package io.basalt.model;

import java.nio.file.Path;

/** A model or tokenizer file that cannot be used: the message names the file and the problem. */
public final class ModelFormatException extends RuntimeException {
    private final transient Path file;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() { return file; }
}
