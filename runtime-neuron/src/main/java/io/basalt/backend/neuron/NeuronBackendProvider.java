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
        return reason(property, env, root).isEmpty();
    }

    @Override
    public String unavailableReason() {
        return reason(System.getProperty("basalt.nrt.library"), System.getenv("BASALT_NRT_LIBRARY"), Path.of("/"));
    }

    /** Empty when a libnrt (or a device) is there; otherwise what was looked for. */
    static String reason(String property, String env, Path root) {
        String[][] configured = {{"-Dbasalt.nrt.library", property}, {"BASALT_NRT_LIBRARY", env}};
        for (String[] c : configured) {
            if (c[1] != null && !c[1].isBlank()) return Files.isRegularFile(Path.of(c[1])) ? "" : c[0] + "=" + c[1] + ": no such file";
        }
        if (Files.exists(root.resolve("opt/aws/neuron/lib/libnrt.so.1")) || Files.exists(root.resolve("dev/neuron0"))) return "";
        return "no /opt/aws/neuron/lib/libnrt.so.1 and no /dev/neuron0 (install aws-neuronx-runtime-lib, or set BASALT_NRT_LIBRARY)";
    }

    @Override public Backend open() { return new NeuronBackend(null); }
}
