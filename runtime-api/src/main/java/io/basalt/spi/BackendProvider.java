package io.basalt.spi;

/**
 * Found through {@link java.util.ServiceLoader}. {@link #isAvailable()} is cheap and never throws
 * (it must not load native code); {@link #open()} may.
 */
public interface BackendProvider {
    String name();

    boolean isAvailable();

    /** Why {@link #isAvailable()} is false, for the error a user sees (cheap, as isAvailable); empty when it cannot say. */
    default String unavailableReason() { return ""; }

    Backend open();
}
