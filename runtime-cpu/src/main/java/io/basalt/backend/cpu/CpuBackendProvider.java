package io.basalt.backend.cpu;

import io.basalt.spi.Backend;
import io.basalt.spi.BackendProvider;

/** Registers the CPU backend with {@link java.util.ServiceLoader}; always available. */
public final class CpuBackendProvider implements BackendProvider {
    @Override public String name() { return CpuBackend.NAME; }

    @Override public boolean isAvailable() { return true; }

    @Override public Backend open() { return new CpuBackend(); }
}
