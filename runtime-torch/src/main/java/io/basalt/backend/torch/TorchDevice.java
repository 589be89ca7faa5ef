package io.basalt.backend.torch;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.Locale;

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
