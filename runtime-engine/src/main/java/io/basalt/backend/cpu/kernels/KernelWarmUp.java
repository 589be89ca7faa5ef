package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Compiles the matrix kernels while a model loads. Vector API code is only fast once C2 has compiled
 * it (JAVA.md §1.4); before that, the first prefill of a 1B model runs interpreted for seconds.
 * Running every kernel a few hundred times on tiny matrices in a background thread gets them
 * compiled in well under a second, in parallel with mapping the weights.
 */
public final class KernelWarmUp {
    private KernelWarmUp() {}

    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static final int ROUNDS = 400;

    /** Starts the warm-up once per JVM (later calls do nothing). */
    public static void start() {
        if (!STARTED.compareAndSet(false, true)) return;
        Thread.ofPlatform().name("basalt-kernel-warmup").daemon(true).start(KernelWarmUp::run);
    }

    private static void run() {
        try (Arena arena = Arena.ofConfined()) {
            int rows = 32, cols = 2 * PackedMatrix.KC; // two panels (the 2-panel tiles) and two k-blocks (first and accumulating path)
            WeightMatrix[] matrices = {
                    WeightMatrices.rowMajor(arena.allocate(4L * rows * cols, 64), DType.F32, rows, cols, arena),
                    WeightMatrices.rowMajor(arena.allocate(2L * rows * cols, 64), DType.BF16, rows, cols, arena),
                    WeightMatrices.rowMajor(arena.allocate(2L * rows * cols, 64), DType.F16, rows, cols, arena),
                    WeightMatrices.rowMajor(arena.allocate(DType.Q8_0.byteSize((long) rows * cols), 64), DType.Q8_0, rows, cols, arena),
            };
            float[][][] xs = {new float[1][cols], new float[8][cols], new float[13][cols]}; // tiles of 1; 8; 8+4+1 rows (6+2; 6+6+1 on 256-bit machines)
            for (int round = 0; round < ROUNDS; round++) {
                for (WeightMatrix m : matrices) {
                    for (float[][] x : xs) m.matmul(x, new float[x.length][rows]);
                }
            }
        } catch (RuntimeException e) {
            // A warm-up is an optimisation: never let it disturb the load it runs beside.
        }
    }

}
