package io.basalt.parity;

/** Input the harness cannot use (missing file, not a dump, dumps that do not describe the same prompts); CLI exit 2. */
public final class ParityInputException extends IllegalArgumentException {
    public ParityInputException(String message) { super(message); }

    public ParityInputException(String message, Throwable cause) { super(message, cause); }
}
