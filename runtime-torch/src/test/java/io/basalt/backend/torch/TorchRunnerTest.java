package io.basalt.backend.torch;

import static io.basalt.backend.torch.TorchTestSupport.S1;
import static io.basalt.backend.torch.TorchTestSupport.logitsPerPosition;
import static io.basalt.backend.torch.TorchTestSupport.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.basalt.backend.Backends;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.BlockCopy;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.Quantization;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import io.basalt.spi.StorageDtype;
import io.basalt.testing.Shared;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The runner through the SPI: batching, block tables and copies, memory per step, dtype and device rules. */
class TorchRunnerTest {
    private static final String STORIES = "stories260K/stories260K.bin";

    private static StepOutput step(ModelRunner r, List<BlockCopy> copies, SequenceInput... in) {
        return r.execute(new Batch(copies, List.of(in), Batch.HiddenStates.NONE));
    }

    private static int[] tokens(int n, int salt, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + (i * 29 + salt * 7) % (vocab - 3);
        return t;
    }

    /** Logits of the last token of {@code t} run alone in one prefill, on a fresh pool. */
    private static float[] alone(ModelRunner r, int[] t) {
        return step(r, List.of(), new SequenceInput(99, t, 0, new int[] {20, 21, 22}, true)).logits(0);
    }

    /**
     * Three sequences over two steps, mixing a prefill chunk, decodes, a fresh prefill and a
     * forked sequence whose shared partial block is copied first: each sequence's logits equal those
     * of its tokens run alone. gpt-oss adds sliding windows and sinks to the per-sequence masks.
     */
    @ParameterizedTest
    @ValueSource(strings = {STORIES, "gpt-oss-tiny-random/hf"})
    void batchedStepsEqualSequencesRunAlone(String model) {
        try (TorchModelRunner r = TorchTestSupport.torch(model, 4L << 20)) {
            int vocab = r.spec().vocabSize();
            int[] a = tokens(21, 1, vocab);
            int[] b = tokens(17, 2, vocab);
            int[] c = tokens(9, 3, vocab);
            // Step 1: a's first 20 tokens (blocks 0, 1), b's first 7 (block 2), nothing back for a.
            StepOutput first = step(r, List.of(), new SequenceInput(1, Arrays.copyOf(a, 20), 0, new int[] {0, 1}, false),
                    new SequenceInput(2, Arrays.copyOf(b, 7), 0, new int[] {2}, true));
            assertEquals(SequenceOutput.NONE, first.sequences().get(0));
            assertEquals(0f, maxAbsDiff(new float[][] {first.logits(1)}, new float[][] {alone(r, Arrays.copyOf(b, 7))}), 1e-4f);
            // Step 2: a decodes its 21st token; b finishes its prompt (a chunk of 10 crossing into block 3);
            // d forks a after 20 tokens (block 1 is shared and partial: copied to block 4) and decodes c[0];
            // c starts fresh in block 5.
            int[] d = Arrays.copyOf(a, 21);
            d[20] = c[0];
            StepOutput second = step(r, List.of(new BlockCopy(1, 4)),
                    new SequenceInput(1, new int[] {a[20]}, 20, new int[] {0, 1}, true),
                    new SequenceInput(2, Arrays.copyOfRange(b, 7, 17), 7, new int[] {2, 3}, true),
                    new SequenceInput(4, new int[] {c[0]}, 20, new int[] {0, 4}, true),
                    new SequenceInput(3, c, 0, new int[] {5}, true));
            float[][] got = {second.logits(0), second.logits(1), second.logits(2), second.logits(3)};
            float[][] want = {alone(r, a), alone(r, b), alone(r, d), alone(r, c)};
            assertTrue(maxAbsDiff(got, want) <= 1e-4f, "batched vs alone: " + maxAbsDiff(got, want));
        }
    }

    @Test
    void aLongGenerationDoesNotAccumulateArrays() {
        try (TorchModelRunner r = TorchTestSupport.torch(STORIES, 4L << 20)) {
            int[] table = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
            step(r, List.of(), new SequenceInput(1, new int[] {1, 2, 3}, 0, table, true));
            int live = r.liveArrays();
            for (int p = 3; p < 250; p++) {
                r.execute(new Batch(List.of(), List.of(new SequenceInput(1, new int[] {p % 500}, p, table, true)),
                        p % 50 == 0 ? Batch.HiddenStates.PER_LAYER : Batch.HiddenStates.NONE));
            }
            assertEquals(live, r.liveArrays(), "arrays held by the runner after 247 more steps");
        }
    }

    @Test
    void capabilitiesAndKvCapacityComeFromTheBudget() {
        try (TorchModelRunner r = TorchTestSupport.torch(STORIES, 1L << 20)) {
            assertEquals(new ShapePolicy.Dynamic(), r.capabilities().shapePolicy());
            assertEquals(new KvLayout.Paged(16), r.capabilities().kvLayout());
            assertTrue(r.capabilities().mixedPrefillDecode());
            long perBlock = r.spec().kvBytesPerToken() * 16;
            assertEquals(2L * 4 * 32 * 5, r.spec().kvBytesPerToken()); // K and V, fp32, kvDim 32, 5 layers
            assertEquals((1L << 20) / perBlock, r.capabilities().numKvBlocks());
            assertEquals(List.of(), step(r, List.of(), new SequenceInput(1, new int[] {1}, 0, new int[] {0}, true)).hiddenStates());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TorchTestSupport.torch(STORIES, 100));
        assertTrue(e.getMessage().contains("--kv-cache-memory"), e.getMessage());
    }

    @Test
    void badInputsAreClearErrors() {
        try (TorchModelRunner r = TorchTestSupport.torch(STORIES, 1L << 20)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> step(r, List.of(), new SequenceInput(1, new int[] {512}, 0, new int[] {0}, true)));
            assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> step(r, List.of(), new SequenceInput(1, new int[] {1}, 16, new int[] {0}, true)));
            assertTrue(e.getMessage().contains("block table"), e.getMessage());
        }
    }

    @Test
    void bf16AndQuantizationAreRefusedWithTheReason() {
        IllegalArgumentException bf16 = assertThrows(IllegalArgumentException.class,
                () -> TorchTestSupport.torch(STORIES, 1L << 20, "bf16"));
        assertTrue(bf16.getMessage().contains("--dtype bf16") && bf16.getMessage().contains("aborts"), bf16.getMessage());
        IllegalArgumentException q8 = assertThrows(IllegalArgumentException.class, () -> TorchTestSupport.torch()
                .load(Shared.model(STORIES), new Backend.LoadConfig(1L << 20, 4, 64, StorageDtype.AUTO, Quantization.Q8_0)));
        assertTrue(q8.getMessage().contains("--quantize q8_0"), q8.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> TorchTestSupport.torch(STORIES, 1L << 20, "int4"));
        assertTrue(unknown.getMessage().contains("--dtype 'int4'"), unknown.getMessage());
    }

    @Test
    void f16ComputesCloseToFp32() {
        int[] tokens = TorchTestSupport.mod(S1, 512);
        try (TorchModelRunner f16 = TorchTestSupport.torch(STORIES, 1L << 20, "f16");
             TorchModelRunner f32 = TorchTestSupport.torch(STORIES, 1L << 20, "fp32")) {
            assertEquals(2L * 2 * 32 * 5, f16.spec().kvBytesPerToken());
            float[][] half = logitsPerPosition(f16, tokens);
            float[][] full = logitsPerPosition(f32, tokens);
            float diff = maxAbsDiff(half, full);
            System.out.printf("TorchRunnerTest: stories260K f16 vs fp32 max |Δlogit| = %.3g%n", diff);
            assertTrue(diff > 0 && diff < 0.1f, "f16 drift " + diff);
            for (int p = 0; p < tokens.length; p++) assertEquals(argmax(full[p]), argmax(half[p]), "argmax @" + p);
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    @Test
    void deviceSettingResolvesOrFailsClearly() {
        assertEquals(Device.cpu(), TorchDevice.resolve("auto", 0));
        assertEquals(Device.gpu(), TorchDevice.resolve("auto", 2));
        assertEquals(Device.cpu(), TorchDevice.resolve("cpu", 2));
        IllegalArgumentException noGpu = assertThrows(IllegalArgumentException.class, () -> TorchDevice.resolve("cuda", 0));
        assertTrue(noGpu.getMessage().contains("no GPU") && noGpu.getMessage().contains("PYTORCH_LIBRARY_PATH"), noGpu.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> TorchDevice.resolve("tpu", 0));
        assertTrue(bad.getMessage().contains("auto, cpu or cuda"), bad.getMessage());
    }

    @Test
    void theServiceLoaderFindsTheBackend() {
        assertTrue(Backends.names().contains("torch"), Backends.names().toString());
        assertTrue(new TorchBackendProvider().isAvailable());
        TorchTestSupport.torch(); // skips here if libtorch cannot start
        try (Backend b = Backends.open("torch")) {
            assertEquals("torch", b.name());
        }
    }
}
