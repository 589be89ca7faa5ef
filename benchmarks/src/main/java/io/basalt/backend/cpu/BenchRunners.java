package io.basalt.backend.cpu;

import io.basalt.model.arch.Model;

/**
 * Benchmark-only access to a {@link CpuModelRunner} over a model that is already loaded:
 * {@link CpuBackend#load} loads by path with default {@code LoadOptions}, while the benchmark needs the
 * engine to run the very model it loaded with its storage options (and not map a second copy,
 * which would count twice in the peak RSS). Lives in the backend's package for its constructor;
 * goes away once the backend takes load options.
 */
public final class BenchRunners {
    private BenchRunners() {}

    /** A runner over {@code model} whose paged KV pool holds {@code kvBytes} (at least one block). */
    public static CpuModelRunner over(Model model, long kvBytes) {
        long perBlock = CpuModelRunner.kvBytesPerToken(model) * CpuModelRunner.BLOCK_SIZE;
        return new CpuModelRunner(model, (int) Math.clamp(kvBytes / perBlock, 1, Integer.MAX_VALUE / 2));
    }

    /** KV bytes one position of one sequence takes in the runner's pool. */
    public static long kvBytesPerToken(Model model) { return CpuModelRunner.kvBytesPerToken(model); }
}
