package io.basalt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.basalt.backend.Backends;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.SequenceInput;
import io.basalt.testing.Shared;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A prefill of more rows than {@link Matmuls#LT_MIN_ROWS} takes cuBLASLt for its fp32 matrices (the stand-in's
 * reference GEMM here): its last-token logits equal the CPU backend's, as the kernel path's do.
 */
class CudaPrefillTest {
    @BeforeAll
    static void standin() {
        String missing = RunnerStandin.missing();
        assumeTrue(missing == null, missing);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K/stories260K.bin", "gpt2-tiny-random/hf", "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"})
    void aLongPrefillMatchesTheCpuBackend(String name) {
        Path model = Shared.model(name);
        Backend.LoadConfig load = new Backend.LoadConfig(16L << 20, 4, 256);
        try (Backend cpu = Backends.open("cpu"); ModelRunner a = cpu.load(model, load);
             Backend cuda = Backends.open("cuda"); ModelRunner b = cuda.load(model, load)) {
            int vocab = a.spec().vocabSize();
            int[] tokens = new Random(19).ints(Matmuls.LT_MIN_ROWS + 9, 1, vocab).toArray();
            Batch step = new Batch(List.of(), List.of(new SequenceInput(0, tokens, 0, new int[] {0, 1, 2, 3}, true)),
                    Batch.HiddenStates.NONE);
            float[] x = a.execute(step).logits(0);
            float[] y = b.execute(step).logits(0);
            double max = 0;
            for (int i = 0; i < vocab; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
            assertTrue(max <= 1e-4, name + ": max |Δlogit| " + max);
        }
    }
}
