package io.basalt.backend.torch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Where libtorch computes: {@code cpu}, or {@code cuda} when DJL finds a CUDA libtorch and a GPU
 * (supply one with {@code PYTORCH_LIBRARY_PATH} / {@code PYTORCH_FLAVOR}). Chosen with the system
 * property {@code basalt.torch.device} or the environment variable {@code BASALT_TORCH_DEVICE}:
 * {@code auto} (default: the GPU when there is one), {@code cpu} or {@code cuda}.
 */
final class TorchDevice {
    static final String PROPERTY = "basalt.torch.device";
    static final String ENV = "BASALT_TORCH_DEVICE";

    private TorchDevice() {}

    /** Held here: java.util.logging keeps loggers weakly, and a collected logger would drop its filter. */
    private static final Logger CUDA_PROBE = Logger.getLogger("ai.djl.util.cuda.CudaUtils");

    /**
     * DJL probes for GPUs twice while libtorch starts and warns each time the probe fails ("CUDA driver version is
     * insufficient…"). Without an NVIDIA driver there is no GPU to miss, so the warning is noise: dropped. With a
     * driver it may matter (a driver older than the CUDA runtime): said once.
     */
    static void quietCudaProbe() {
        boolean driver = Files.exists(Path.of("/proc/driver/nvidia/version")) || Files.exists(Path.of("/dev/nvidiactl"));
        Set<String> seen = ConcurrentHashMap.newKeySet();
        CUDA_PROBE.setFilter(r -> driver && seen.add(String.valueOf(r.getMessage())));
    }

    /** The requested setting, lower case; "auto" when neither the property nor the variable is set. */
    static String requested() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) v = System.getenv(ENV);
        return v == null || v.isBlank() ? "auto" : v.strip().toLowerCase(Locale.ROOT);
    }

    /** Resolves the setting against the engine's GPU count; an impossible request is a clear error. */
    static Device resolve(String requested, int gpuCount) {
        return switch (requested) {
            case "auto" -> gpuCount > 0 ? Device.gpu() : Device.cpu();
            case "cpu" -> Device.cpu();
            case "cuda", "gpu" -> {
                if (gpuCount == 0) {
                    throw new IllegalArgumentException(PROPERTY + "=cuda but libtorch reports no GPU (this libtorch is the CPU "
                            + "build, or no CUDA driver): point PYTORCH_LIBRARY_PATH at a CUDA libtorch, or use cpu");
                }
                yield Device.gpu();
            }
            default -> throw new IllegalArgumentException("unknown " + PROPERTY + " '" + requested + "' (expected auto, cpu or cuda)");
        };
    }

    static Device resolve(Engine engine) { return resolve(requested(), engine.getGpuCount()); }
}
