package io.basalt.backend.torch;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.basalt.spi.Batch;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.SequenceInput;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Single-stream decode speed, torch against cpu, side by side (a measurement, not a check: it asserts
 * nothing about time). Runs only with {@code -Dbasalt.torch.bench=true}; prints one line per model.
 */
class DecodeSpeedTest {
    private static final int WARMUP = 30;
    private static final int TOKENS = 200;

    @Test
    void decodeTokensPerSecond() {
        assumeTrue(Boolean.getBoolean("basalt.torch.bench"), "set -Dbasalt.torch.bench=true to measure");
        for (String model : List.of("gpt2-tiny-random/hf", "stories260K/stories260K.bin")) {
            double torch;
            double cpu;
            try (ModelRunner r = TorchTestSupport.torch(model, 16L << 20)) {
                torch = tokensPerSecond(r);
            }
            try (ModelRunner r = TorchParityTest.cpu(model, 16L << 20)) {
                cpu = tokensPerSecond(r);
            }
            System.out.printf("decode %-28s torch %8.1f tok/s   cpu %8.1f tok/s   (%d tokens after %d warm-up, threads: %s)%n",
                    model, torch, cpu, TOKENS, WARMUP, System.getProperty("ai.djl.pytorch.num_threads", "default"));
        }
    }

    /** Decode steps of one sequence (ids fed in turn, not sampled), restarting at position 0 at the context's end. */
    private static double tokensPerSecond(ModelRunner r) {
        int[] table = new int[(WARMUP + TOKENS + 15) / 16];
        for (int i = 0; i < table.length; i++) table[i] = i;
        int vocab = r.spec().vocabSize();
        int context = Math.min(r.spec().maxPositions(), WARMUP + TOKENS);
        long start = 0;
        for (int p = 0; p < WARMUP + TOKENS; p++) {
            if (p == WARMUP) start = System.nanoTime();
            r.execute(new Batch(List.of(), List.of(new SequenceInput(1, new int[] {(p * 31 + 7) % vocab}, p % context, table, true)),
                    Batch.HiddenStates.NONE));
        }
        return TOKENS / ((System.nanoTime() - start) / 1e9);
    }
}
