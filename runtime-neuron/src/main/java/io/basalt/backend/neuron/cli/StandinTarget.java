package io.basalt.backend.neuron.cli;

import java.nio.file.Path;

/** {@code --target standin}: the backend's Java stand-in compiler (NEURON.md §4), no Neuron SDK needed. */
final class StandinTarget {
    private StandinTarget() {}

    static void compile(Path model, Path out, CompileOptions o) {
        // TODO(i18-backend): call io.basalt.backend.neuron.StandinCompiler.compile(model, out, <its options from o>) once
        // that branch is merged; until then the target is refused with one clear line.
        throw new IllegalStateException("--target standin: the stand-in compiler is not in this build yet (branch i18-backend)");
    }
}
