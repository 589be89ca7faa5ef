package io.basalt.backend.cpu;

import io.basalt.backend.cpu.kernels.PackedMatrix;
import io.basalt.backend.cpu.kernels.Parallel;
import io.basalt.backend.cpu.model.Model;
import io.basalt.backend.cpu.model.ModelLoader;
import io.basalt.model.layout.LoadOptions;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.Backend;
import java.nio.file.Path;
import java.util.Locale;
import java.util.logging.Logger;

/** The pure-Java backend: memory-mapped weights, Vector API kernels, a heap KV pool. */
public final class CpuBackend implements Backend {
    public static final String NAME = "cpu";
    private static final Logger LOG = Logger.getLogger("basalt.cpu");

    @Override
    public String name() { return NAME; }

    /** Weight storage comes from {@code config.storage()} and {@code config.quantization()} (see {@link LoadOptions}). */
    @Override
    public CpuModelRunner load(Path modelPath, LoadConfig config) {
        if (config.compiled().isPresent()) {
            throw new IllegalArgumentException("the cpu backend runs the checkpoint itself; a compiled package (--compiled) is for the neuron backend");
        }
        long t0 = System.nanoTime();
        Model model = ModelLoader.load(modelPath, new LoadOptions(config.storage(), config.quantization()));
        try {
            CpuModelRunner runner = runner(model, config.kvCacheMemoryBytes());
            ModelInfo info = model.info();
            LOG.info(() -> String.format(Locale.ROOT, "cpu backend: %s (%s), %.1fM parameters, %d layers, context %d; %d kernel threads, "
                            + "%d-bit vectors; loaded in %.1f s", info.architecture().name().toLowerCase(Locale.ROOT),
                    info.format().name().toLowerCase(Locale.ROOT), info.numParameters() / 1e6,
                    info.numLayers(), info.maxPositions(), Parallel.threads(), PackedMatrix.vectorBits(),
                    (System.nanoTime() - t0) / 1e9));
            return runner;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * A runner over a model that is already loaded (embedders and benchmarks that chose its
     * {@link LoadOptions} themselves), with a paged KV pool of {@code kvCacheMemoryBytes}.
     */
    public static CpuModelRunner runner(Model model, long kvCacheMemoryBytes) {
        int blocks = model.info().kv().numBlocks(kvCacheMemoryBytes, CpuModelRunner.BLOCK_SIZE, Model.KV_DTYPE);
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (kvCacheMemoryBytes > available * 0.9) {
            throw new IllegalArgumentException("--kv-cache-memory of " + (kvCacheMemoryBytes >> 20)
                    + " MiB does not fit in the JVM heap (" + (available >> 20) + " MiB free); lower it or raise -Xmx");
        }
        return new CpuModelRunner(model, blocks);
    }

    /** KV cache bytes one position of one sequence takes (keys and values, every layer, fp32). */
    public static long kvBytesPerToken(Model model) { return model.spec().kvBytesPerToken(); }
}
