package io.basalt.backend.neuron;

import io.basalt.spi.Backend;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs a compiled package (docs/NEURON.md) through libnrt; the checkpoint supplies the weights. */
public final class NeuronBackend implements Backend {
    public static final String NAME = "neuron";

    private final Path library;

    /** @param library the libnrt to load, or null for the bridge's search order (NEURON.md §2) */
    public NeuronBackend(Path library) { this.library = library; }

    @Override public String name() { return NAME; }

    @Override
    public NeuronModelRunner load(Path model, LoadConfig config) {
        Path dir = config.compiled().orElseThrow(() -> new IllegalArgumentException(
                "the neuron backend runs a compiled package: pass --compiled DIR (basalt neuron compile MODEL --out DIR)"));
        CompiledPackage pkg = CompiledPackage.open(dir);
        return NeuronModelRunner.load(pkg, model, config, library());
    }

    /** The configured libnrt, refused here when it names a file that is not there (one message, before any native code). */
    private Path library() {
        if (library != null) return requireFile(library, "the libnrt given");
        String p = System.getProperty("basalt.nrt.library");
        if (p != null && !p.isBlank()) return requireFile(Path.of(p), "-Dbasalt.nrt.library");
        String e = System.getenv("BASALT_NRT_LIBRARY");
        if (e != null && !e.isBlank()) return requireFile(Path.of(e), "BASALT_NRT_LIBRARY");
        return null;
    }

    private static Path requireFile(Path p, String what) {
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(what + " " + p + ": no such file (install aws-neuronx-runtime-lib, or point it at libnrt.so.1); "
                    + CoreDiscovery.discover().describe());
        }
        return p;
    }
}
