package io.basalt.hub;

/**
 * A model could not be fetched from (or found in the cache of) the Hugging Face Hub. The message
 * is one line a user can act on: what failed, for which repo or file, and what to do about it.
 */
public final class HubException extends RuntimeException {
    public HubException(String message) { super(message); }

    public HubException(String message, Throwable cause) { super(message, cause); }
}
