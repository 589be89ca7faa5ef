package io.basalt.backend.torch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormats;
import io.basalt.spi.Backend;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * libtorch through DJL's PyTorch engine: the same checkpoints, layouts and SPI as the CPU backend,
 * an independent forward pass in NDArray operations (what makes a parity check between the two
 * meaningful). fp32 by default, f16 on request; on {@code cpu} or {@code cuda} ({@link TorchDevice}).
 */
public final class TorchBackend implements Backend {
    public static final String NAME = "torch";
    private static final Logger LOG = Logger.getLogger("basalt.torch");

    private final Device device;

    /** Starts libtorch (extracting it into ~/.djl.ai the first time) and resolves the device. */
    public TorchBackend() {
        TorchBackendProvider.preferOffline();
        TorchDevice.quietCudaProbe();
        Engine engine;
        try {
            engine = Engine.getEngine("PyTorch");
        } catch (RuntimeException | LinkageError e) { // a libtorch that does not load on this machine, or offline without one
            throw new IllegalArgumentException("backend 'torch' is not available: libtorch could not start (" + e.getMessage() + ")", e);
        }
        this.device = TorchDevice.resolve(engine);
    }

    @Override
    public String name() { return NAME; }

    public Device device() { return device; }

    @Override
    public TorchModelRunner load(Path modelPath, LoadConfig config) {
        if (config.compiled().isPresent()) {
            throw new IllegalArgumentException("the torch backend runs the checkpoint itself; a compiled package (--compiled) is for the neuron backend");
        }
        TorchDtype dtype = TorchDtype.of(config);
        if (dtype == TorchDtype.FP16 && !device.isGpu()) {
            LOG.warning("torch: --dtype f16 on the CPU libtorch is very slow (about 1 GFLOP/s matrix products); fp32 is the fast path");
        }
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        try {
            TorchModel model;
            try (Checkpoint checkpoint = ModelFormats.open(modelPath)) {
                model = TorchModels.load(checkpoint, manager, dtype);
            }
            // K and V in the compute dtype, the pool sized as every backend sizes it
            int blocks = model.info().kv().numBlocks(config.kvCacheMemoryBytes(), TorchModelRunner.BLOCK_SIZE, dtype.element);
            TorchModelRunner runner = new TorchModelRunner(manager, model, dtype, blocks);
            LOG.info(() -> "torch: " + modelPath.getFileName() + " on " + device + " in " + dtype.name().toLowerCase(java.util.Locale.ROOT)
                    + ", " + runner.capabilities().numKvBlocks() + " KV blocks");
            return runner;
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }
}
