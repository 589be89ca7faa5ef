package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Compiles the kernels a model needs before its first forward pass. Vector API code is only fast once
 * C2 has compiled it (JAVA.md §1.4): cold, the first 8-token prefill of the 1B benchmark model took
 * 2.9–3.3 s against 0.24 s compiled. Running the kernels of the model's weight types (and attention)
 * a few hundred times on tiny inputs, then waiting for the JIT to go quiet, moves most of that into
 * the load, so a server's first request does not pay it. It runs when the matrices are bound, on the
 * caller's thread and the kernel pool, not beside the load: a background warm-up of every type
 * competed with the first prefill for the two cores and made it slower (4.2–8 s).
 */
public final class KernelWarmUp {
    private KernelWarmUp() {}

    private static final System.Logger LOG = System.getLogger(KernelWarmUp.class.getName());
    private static final int ROUNDS = 200;
    /** What this JVM has warmed: a second model of the same types pays nothing. */
    private static final Set<Object> DONE = ConcurrentHashMap.newKeySet();
    private static final Object ATTENTION = new Object();

    /** Warms the matrix kernels of these weight types and the attention kernels, each once per JVM. */
    public static void ensure(Collection<DType> dtypes) {
        try {
            for (DType dtype : dtypes) {
                if ((PackedMatrix.supports(dtype) || dtype == DType.Q8_0) && DONE.add(dtype)) matrices(dtype, ROUNDS);
            }
            if (DONE.add(ATTENTION)) attention(ROUNDS);
            awaitCompiler();
        } catch (RuntimeException e) {
            // A warm-up is an optimisation: never let it fail a load, but say so.
            LOG.log(System.Logger.Level.WARNING, "kernel warm-up failed: " + e);
        }
    }

    /**
     * Waits until the JIT has been idle for a moment (at most {@link #MAX_WAIT_MS}): the rounds above
     * only queue the compilations, and a first forward pass that starts before C2 is done runs the
     * big matrices in interpreted or C1 code while competing with the compiler for the cores.
     */
    private static void awaitCompiler() {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) return;
        long deadline = System.nanoTime() + MAX_WAIT_MS * 1_000_000L;
        long last = jit.getTotalCompilationTime();
        int quiet = 0;
        while (quiet < 4 && System.nanoTime() < deadline) { // 100 ms without a finished compilation
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = jit.getTotalCompilationTime();
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
    }

    private static final long MAX_WAIT_MS = 3000;

    /** Runs one type's matrix kernels {@code rounds} times; throws what a kernel throws (the tests call it). */
    static void matrices(DType dtype, int rounds) {
        // Shared, not confined: packing and the products run on the kernel pool's threads too.
        try (Arena arena = Arena.ofShared()) {
            int rows = 32, cols = 2 * PackedMatrix.KC; // two panels (the 2-panel tiles) and two k-blocks (first and accumulating path)
            WeightMatrix m = WeightMatrices.rowMajor(arena.allocate(dtype.byteSize((long) rows * cols), 64), dtype, rows, cols, arena);
            float[][][] xs = {new float[1][cols], new float[8][cols], new float[13][cols]}; // tiles of 1; 8; 8+4+1 rows (6+2; 6+6+1 on 256-bit machines)
            for (int round = 0; round < rounds; round++) {
                for (float[][] x : xs) m.matmul(x, new float[x.length][rows]);
            }
        }
    }

    /** Attention over 40 positions (two tiles of each kernel), head size 64: one row, then eight at once. */
    static void attention(int rounds) {
        int positions = 40, headDim = 64;
        float[] keys = new float[positions * headDim], values = new float[positions * headDim];
        int[] offsets = new int[positions];
        for (int p = 0; p < positions; p++) offsets[p] = p * headDim;
        float[][] q = new float[PrefillAttention.ROWS][headDim], out = new float[PrefillAttention.ROWS][headDim];
        for (int round = 0; round < rounds; round++) {
            Attention.attend(q[0], 0, keys, values, offsets, 0, 0, 0, positions - 1, 1, headDim, 0.125f, null, 0,
                    out[0], 0, Attention.scratch());
            PrefillAttention.attend(q, 0, 0, keys, values, offsets, 0, 0, positions - PrefillAttention.ROWS, headDim, 0.125f,
                    out, PrefillAttention.scratch());
        }
    }
}
