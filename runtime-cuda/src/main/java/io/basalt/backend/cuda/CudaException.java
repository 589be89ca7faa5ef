package io.basalt.backend.cuda;

/** A CUDA driver or cuBLASLt call that did not succeed: the message names the call, the result's name and its value. */
public final class CudaException extends RuntimeException {
    private final String call;
    private final int result;

    CudaException(String call, int result, String name) {
        super(call + " failed: " + name + " (" + result + ")");
        this.call = call;
        this.result = result;
    }

    /** The driver function (base name, e.g. {@code cuMemAlloc}) or cuBLASLt function. */
    public String call() { return call; }

    /** The CUresult or cublasStatus_t value. */
    public int result() { return result; }
}
