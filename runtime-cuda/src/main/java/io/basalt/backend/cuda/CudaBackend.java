package io.basalt.backend.cuda;

import io.basalt.spi.Backend;
import java.nio.file.Path;

/**
 * NVIDIA GPUs through the driver API and our kernels (docs/CUDA.md). Each {@link #load} gets its own device thread and
 * context use; the backend itself holds nothing native.
 */
public final class CudaBackend implements Backend {
    public static final String NAME = "cuda";

    @Override
    public String name() { return NAME; }

    @Override
    public CudaModelRunner load(Path model, LoadConfig config) {
        if (config.compiled().isPresent()) {
            throw new IllegalArgumentException("the cuda backend runs the checkpoint itself; a compiled package (--compiled) is for the neuron backend");
        }
        return CudaModelRunner.load(model, config, 0);
    }
}
