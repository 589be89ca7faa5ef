package io.basalt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.BlockCopy;
import io.basalt.spi.KvLayout;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import io.basalt.testing.Shared;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CPU runner through the SPI: block tables, hidden states, block copies, capacity from the budget. */
class CpuModelRunnerTest {
    static final int[] S1 = {0, 17, 999, 421, 5, 5, 5, 300, 42, 731, 1, 268};

    private static CpuModelRunner load(String model, long kvBytes) {
        return new CpuBackend().load(Shared.model(model), new Backend.LoadConfig(kvBytes, 8, 512));
    }

    @Test
    void perLayerHiddenStatesMatchTheGptOssReferenceResiduals() {
        float[] expected = Shared.readF32(Shared.reference("gpt-oss-tiny-random/S1_residual_after_each_block_fp32.f32"));
        try (CpuModelRunner runner = load("gpt-oss-tiny-random/hf", 8L << 20)) {
            // Blocks scattered on purpose: positions 0–15 in block 5 (only one block needed for 12 tokens).
            StepOutput out = runner.execute(new Batch(List.of(), List.of(new SequenceInput(1, S1, 0, new int[] {5}, true)),
                    Batch.HiddenStates.PER_LAYER));
            float[][][] states = out.hiddenStates().get(0); // [layer][token][hidden]
            assertEquals(3, states.length);
            float worst = 0;
            for (int l = 0; l < 3; l++) {
                for (int t = 0; t < 12; t++) {
                    for (int d = 0; d < 64; d++) worst = Math.max(worst, Math.abs(states[l][t][d] - expected[(l * 12 + t) * 64 + d]));
                }
            }
            assertEquals(0f, worst, 1e-3f);
            assertEquals(1000, out.logits(0).length);
        }
    }

    @Test
    void chunksThroughScatteredBlocksAndCopiesEqualOnePass() {
        try (CpuModelRunner runner = load("stories260K/stories260K.bin", 16L << 20)) {
            assertEquals(new ShapePolicy.Dynamic(), runner.capabilities().shapePolicy());
            assertEquals(new KvLayout.Paged(CpuModelRunner.BLOCK_SIZE), runner.capabilities().kvLayout());
            int[] tokens = new int[40];
            for (int i = 0; i < tokens.length; i++) tokens[i] = 1 + (i * 29) % 500;
            float[] whole = runner.execute(new Batch(List.of(), List.of(new SequenceInput(1, tokens, 0, new int[] {0, 1, 2}, true)),
                    Batch.HiddenStates.NONE)).logits(0);
            // Same tokens in two chunks through other blocks; the second chunk runs after copying the
            // first chunk's blocks 7, 3 to 9, 4 (copy-on-write as the engine would request it).
            int[] table = {7, 3, 8};
            StepOutput first = runner.execute(new Batch(List.of(), List.of(
                    new SequenceInput(2, java.util.Arrays.copyOf(tokens, 25), 0, table, false)), Batch.HiddenStates.NONE));
            assertEquals(SequenceOutput.NONE, first.sequences().get(0));
            StepOutput second = runner.execute(new Batch(List.of(new BlockCopy(7, 9), new BlockCopy(3, 4)), List.of(
                    new SequenceInput(3, java.util.Arrays.copyOfRange(tokens, 25, 40), 25, new int[] {9, 4, 10}, true)),
                    Batch.HiddenStates.NONE));
            float[] chunked = second.logits(0);
            for (int i = 0; i < whole.length; i++) assertEquals(whole[i], chunked[i], 1e-4f, "logit " + i);
        }
    }

    @Test
    void kvCapacityComesFromTheBudgetAndTooSmallABudgetIsRejected() {
        try (CpuModelRunner runner = load("stories260K/stories260K.bin", 1L << 20)) {
            long perBlock = runner.spec().kvBytesPerToken() * CpuModelRunner.BLOCK_SIZE;
            assertEquals((1L << 20) / perBlock, runner.capabilities().numKvBlocks());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load("stories260K/stories260K.bin", 100));
        assertEquals(true, e.getMessage().contains("--kv-cache-memory"), e.getMessage());
    }
}
