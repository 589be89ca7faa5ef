package io.basalt.backend.cuda;

import io.basalt.spi.Backend;
import io.basalt.spi.BackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Registers the cuda backend ("cuda") with {@link java.util.ServiceLoader}. Available when a libcuda is at hand: the
 * configured one (-Dbasalt.cuda.library, BASALT_CUDA_LIBRARY) exists, or libcuda.so.1 is in one of the places drivers
 * install it. Only files are looked at; nothing native loads until {@link #open()}.
 */
public final class CudaBackendProvider implements BackendProvider {
    /** Where NVIDIA's driver packages put libcuda.so.1 (Debian/Ubuntu, RHEL, the NVIDIA container toolkit). */
    static final List<Path> DRIVER_DIRS = List.of(Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/usr/lib64"),
            Path.of("/usr/local/nvidia/lib64"));

    @Override
    public String name() { return CudaBackend.NAME; }

    @Override
    public boolean isAvailable() {
        try {
            Path configured = configured();
            if (configured != null) return Files.isRegularFile(configured);
            return DRIVER_DIRS.stream().anyMatch(d -> Files.exists(d.resolve("libcuda.so.1")));
        } catch (RuntimeException e) { // a malformed path in the property: not available, never a throw
            return false;
        }
    }

    @Override
    public String unavailableReason() {
        Path configured;
        try {
            configured = configured();
        } catch (RuntimeException e) {
            return "the configured libcuda path is not valid: " + e.getMessage();
        }
        if (configured != null) return "no libcuda at " + configured + " (set by -Dbasalt.cuda.library or BASALT_CUDA_LIBRARY)";
        return "no NVIDIA driver: libcuda.so.1 is not in " + String.join(", ", DRIVER_DIRS.stream().map(Path::toString).toList())
                + " (set -Dbasalt.cuda.library or BASALT_CUDA_LIBRARY to its path)";
    }

    /** The configured libcuda (the property, else the environment), or null. */
    static Path configured() {
        String p = System.getProperty("basalt.cuda.library");
        if (p == null || p.isBlank()) p = System.getenv("BASALT_CUDA_LIBRARY");
        return p == null || p.isBlank() ? null : Path.of(p);
    }

    @Override
    public Backend open() { return new CudaBackend(); }
}
