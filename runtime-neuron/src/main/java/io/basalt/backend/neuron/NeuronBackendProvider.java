package io.basalt.backend.neuron;

import io.basalt.spi.Backend;
import io.basalt.spi.BackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Registers the neuron backend. {@link #isAvailable()} only looks at files (never loads native code): a libnrt named
 * by {@code basalt.nrt.library} / {@code BASALT_NRT_LIBRARY} that exists, the Neuron SDK's libnrt, or a Neuron device.
 */
public final class NeuronBackendProvider implements BackendProvider {
    @Override public String name() { return NeuronBackend.NAME; }

    @Override
    public boolean isAvailable() {
        return available(System.getProperty("basalt.nrt.library"), System.getenv("BASALT_NRT_LIBRARY"), Path.of("/"));
    }

    /** The check behind {@link #isAvailable()}, with the places it looks under {@code root}. */
    static boolean available(String property, String env, Path root) {
        for (String configured : new String[] {property, env}) {
            if (configured != null && !configured.isBlank()) return Files.isRegularFile(Path.of(configured));
        }
        return Files.exists(root.resolve("opt/aws/neuron/lib/libnrt.so.1")) || Files.exists(root.resolve("dev/neuron0"));
    }

    @Override public Backend open() { return new NeuronBackend(null); }
}
