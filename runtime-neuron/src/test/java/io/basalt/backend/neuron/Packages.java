package io.basalt.backend.neuron;

import io.basalt.testing.Shared;
import java.nio.file.Path;
import java.util.List;

/** The tiny checkpoints and stand-in packages the neuron tests share (packages are compiled into a temporary folder). */
final class Packages {
    private Packages() {}

    static final Path STORIES = Shared.model("stories260K/stories260K.bin");
    static final Path TINY_GGUF = Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");

    /** Small buckets: prefill 16 and 64, decode batches 1, 2, 4 at kv 64/128/256, 4 slots of 256. */
    static StandinCompiler.Options small() {
        return new StandinCompiler.Options(1, "f32", List.of(16, 64), List.of(1, 2, 4), List.of(64, 128), 4, 256, "logits");
    }
}
