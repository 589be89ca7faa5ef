package io.basalt.server;

/** The admission queue is full: HTTP answers 429 with Retry-After, gRPC RESOURCE_EXHAUSTED. */
public final class OverloadedException extends RuntimeException {
    public OverloadedException(String message) { super(message); }
}
