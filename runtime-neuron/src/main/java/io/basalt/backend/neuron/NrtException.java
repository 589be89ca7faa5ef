package io.basalt.backend.neuron;

/** A libnrt call that returned a status other than NRT_SUCCESS: the message names the call, the status and its value. */
public final class NrtException extends RuntimeException {
    private final String call;
    private final int status;

    NrtException(String call, int status, String statusName) {
        super(call + " failed: " + statusName + " (" + status + ")");
        this.call = call;
        this.status = status;
    }

    /** The libnrt function, e.g. {@code nrt_execute}. */
    public String call() { return call; }

    /** The NRT_STATUS value. */
    public int status() { return status; }
}
