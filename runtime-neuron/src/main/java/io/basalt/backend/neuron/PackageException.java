package io.basalt.backend.neuron;

/** A compiled package that cannot be used: the message names the file and the field or value at fault. */
public final class PackageException extends RuntimeException {
    public PackageException(String message) { super(message); }

    public PackageException(String message, Throwable cause) { super(message, cause); }
}
