package io.basalt.backend.cpu.kernels;

/**
 * Splits a row range into a few contiguous chunks per core, which the caller and a persistent
 * {@link WorkerPool} claim in order until none is left.
 */
public final class Parallel {
    private Parallel() {}

    public interface RangeBody { void run(int start, int end); }

    /** Threads of a parallel loop ({@link KernelSettings#threads}), fixed at first use. */
    private static final int PROCESSORS = KernelSettings.threads();
    private static final WorkerPool POOL = PROCESSORS > 1 ? new WorkerPool(PROCESSORS - 1) : null;

    /** How many threads share a parallel loop (the caller and the pool's workers). */
    public static int threads() { return PROCESSORS; }

    /** Runs body over [0, n); serially when the work ({@code n × costPerItem}) is too small to share. */
    public static void forRange(int n, long costPerItem, RangeBody body) {
        forRange(n, costPerItem, 4, body);
    }

    /**
     * {@link #forRange(int, long, RangeBody)} in finer chunks, for loops whose items share nothing
     * (a decode GEMV: each item streams its own weights), so that the threads finish together: on gpt2
     * decode 16 chunks per thread instead of 4 gave ~5 % more tokens/s. Loops that reuse data across
     * the items of a chunk (a batch's activations across panels) keep the coarse split.
     */
    public static void forRangeFine(int n, long costPerItem, RangeBody body) {
        forRange(n, costPerItem, 16, body);
    }

    private static void forRange(int n, long costPerItem, int chunksPerThread, RangeBody body) {
        if (PROCESSORS == 1 || n <= 1 || (long) n * costPerItem < 64 * 1024) {
            body.run(0, n);
            return;
        }
        if (!POOL.tryRun(n, chunksPerThread, body)) body.run(0, n); // another thread owns the pool (or this is a worker)
    }
}
