package io.basalt.spi;

/**
 * Found through {@link java.util.ServiceLoader}. {@link #isAvailable()} is cheap and never throws
 * (it must not load native code); {@link #open()} may.
 */
public interface BackendProvider {
    String name();

    boolean isAvailable();

    Backend open();
}
