package io.basalt.backend.neuron.cli;

import io.basalt.backend.neuron.StandinCompiler;
import java.nio.file.Path;

/** {@code --target standin}: the backend's Java stand-in compiler (NEURON.md §4), no Neuron SDK needed. */
final class StandinTarget {
    private StandinTarget() {}

    static void compile(Path model, Path out, CompileOptions o) {
        StandinCompiler.compile(model, out, new StandinCompiler.Options(o.tp(), o.dtype(), o.prefillBuckets(), o.decodeBatches(),
                o.kvLengths(), o.maxBatch(), o.maxLength(), "logits"));
    }
}
