package io.basalt.backend.cpu.kernels;

/**
 * Splits a row range into a few contiguous chunks per core, which the caller and a persistent
 * {@link WorkerPool} claim in order until none is left.
 */
public final class Parallel {
    private Parallel() {}

    public interface RangeBody { void run(int start, int end); }

    private static final int PROCESSORS = Math.max(1, Runtime.getRuntime().availableProcessors());
    private static final WorkerPool POOL = PROCESSORS > 1 ? new WorkerPool(PROCESSORS - 1) : null;

    /** Runs body over [0, n); serially when the work ({@code n × costPerItem}) is too small to share. */
    public static void forRange(int n, long costPerItem, RangeBody body) {
        if (PROCESSORS == 1 || n <= 1 || (long) n * costPerItem < 64 * 1024) {
            body.run(0, n);
            return;
        }
        if (!POOL.tryRun(n, body)) body.run(0, n); // another thread owns the pool (or this is a worker)
    }
}
