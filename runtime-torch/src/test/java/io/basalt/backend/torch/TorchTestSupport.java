package io.basalt.backend.torch;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.basalt.model.layout.LoadOptions;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.Quantization;
import io.basalt.spi.SequenceInput;
import io.basalt.testing.Shared;
import java.util.List;

/**
 * Loads models on the torch backend (skipping, never failing, where libtorch cannot start) and drives steps;
 * backend-tests reuses it to run the same steps on the CPU backend.
 */
final class TorchTestSupport {
    private TorchTestSupport() {}

    static final int[] S1 = {0, 17, 999, 421, 5, 5, 5, 300, 42, 731, 1, 268};

    private static TorchBackend backend;
    private static Throwable unavailable;

    /** The torch backend, or the test is skipped with the reason libtorch did not start. */
    static synchronized TorchBackend torch() {
        if (backend == null && unavailable == null) {
            try {
                backend = new TorchBackend();
            } catch (RuntimeException | LinkageError e) {
                unavailable = e;
            }
        }
        assumeTrue(backend != null, () -> "libtorch cannot load here: " + unavailable);
        return backend;
    }

    static TorchModelRunner torch(String model, long kvBytes) { return torch(model, kvBytes, "auto"); }

    static TorchModelRunner torch(String model, long kvBytes, String dtype) {
        return torch().load(Shared.model(model), new Backend.LoadConfig(kvBytes, 16, 512,
                LoadOptions.parseStorage(dtype), Quantization.NONE));
    }

    /**
     * Logits at every position of {@code tokens}: the first token as a prefill, then one decode step
     * per token (blocks 0, 1, … in order), so every position's logits come back.
     */
    static float[][] logitsPerPosition(ModelRunner runner, int[] tokens, Batch.HiddenStates hidden, List<float[][][]> states) {
        int[] table = new int[(tokens.length + 15) / 16];
        for (int i = 0; i < table.length; i++) table[i] = i;
        float[][] out = new float[tokens.length][];
        for (int p = 0; p < tokens.length; p++) {
            var step = runner.execute(new Batch(List.of(), List.of(new SequenceInput(1, new int[] {tokens[p]}, p, table, true)),
                    hidden));
            out[p] = step.logits(0);
            if (states != null) states.add(step.hiddenStates().get(0));
        }
        return out;
    }

    static float[][] logitsPerPosition(ModelRunner runner, int[] tokens) {
        return logitsPerPosition(runner, tokens, Batch.HiddenStates.NONE, null);
    }

    static float maxAbsDiff(float[][] a, float[][] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != b[i].length) throw new AssertionError("row " + i + ": " + a[i].length + " vs " + b[i].length);
            for (int j = 0; j < a[i].length; j++) worst = Math.max(worst, Math.abs(a[i][j] - b[i][j]));
        }
        return worst;
    }

    static int[] mod(int[] tokens, int vocab) {
        int[] t = tokens.clone();
        for (int i = 0; i < t.length; i++) t[i] %= vocab;
        return t;
    }
}
