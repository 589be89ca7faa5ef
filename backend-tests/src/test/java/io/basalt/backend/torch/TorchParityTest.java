package io.basalt.backend.torch;

import static io.basalt.backend.torch.TorchTestSupport.S1;
import static io.basalt.backend.torch.TorchTestSupport.logitsPerPosition;
import static io.basalt.backend.torch.TorchTestSupport.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.ModelRunner;
import io.basalt.testing.Shared;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * torch fp32 against the CPU backend (same inputs, per position and per layer) and against the peers' references:
 * the per-backend contract test. It lives here because runtime-torch does not depend on runtime-cpu.
 */
class TorchParityTest {
    private static final String STORIES = "stories260K/stories260K.bin";

    /** The reference: the CPU backend, weights as stored. */
    static ModelRunner cpu(String model, long kvBytes) {
        return new CpuBackend().load(Shared.model(model), new Backend.LoadConfig(kvBytes, 16, 512));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "stories260K/stories260K.bin, 1e-4",
        "gpt2-tiny-random/hf, 1e-4",
        "gpt2-tiny-random/llmc/gpt2_tiny_random.bin, 1e-4",
        "gpt-oss-tiny-random/hf, 1e-3",
        "gpt-oss-tiny-random/original, 1e-3",
        "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf, 1e-3",
    })
    void logitsAndHiddenStatesMatchTheCpuBackend(String model, float tolerance) {
        try (TorchModelRunner torch = TorchTestSupport.torch(model, 4L << 20);
             ModelRunner cpu = cpu(model, 4L << 20)) {
            int[] tokens = TorchTestSupport.mod(S1, torch.spec().vocabSize());
            List<float[][][]> torchStates = new ArrayList<>();
            List<float[][][]> cpuStates = new ArrayList<>();
            float[][] t = logitsPerPosition(torch, tokens, Batch.HiddenStates.PER_LAYER, torchStates);
            float[][] c = logitsPerPosition(cpu, tokens, Batch.HiddenStates.PER_LAYER, cpuStates);
            float logitDiff = maxAbsDiff(t, c);
            float hiddenDiff = 0;
            float hiddenMax = 0;
            for (int p = 0; p < tokens.length; p++) {
                assertEquals(cpu.spec().numLayers(), torchStates.get(p).length);
                for (int l = 0; l < cpu.spec().numLayers(); l++) {
                    hiddenDiff = Math.max(hiddenDiff, maxAbsDiff(torchStates.get(p)[l], cpuStates.get(p)[l]));
                    for (float v : cpuStates.get(p)[l][0]) hiddenMax = Math.max(hiddenMax, Math.abs(v));
                }
            }
            System.out.printf("TorchParityTest: %s max |Δlogit| = %.3g, max |Δhidden| = %.3g (max |hidden| %.3g)%n", model,
                    logitDiff, hiddenDiff, hiddenMax);
            assertTrue(logitDiff <= tolerance, model + ": max |Δlogit| " + logitDiff + " > " + tolerance);
            // Hidden states within 1e-4, scaled for residuals beyond 10 (gpt-oss's grows past 100).
            assertTrue(hiddenDiff <= 1e-4f * Math.max(1f, hiddenMax / 10), model + ": max |Δhidden| " + hiddenDiff);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "gpt2-tiny-random/hf, gpt2-tiny-random/S1_logits_fp32.f32, 1e-4",
        "gpt-oss-tiny-random/hf, gpt-oss-tiny-random/S1_logits_fp32.f32, 1e-3",
        "gpt-oss-tiny-random/original, gpt-oss-tiny-random/S1_logits_fp32.f32, 1e-3",
    })
    void s1LogitsMatchThePeerReference(String model, String reference, float tolerance) {
        float[] expected = Shared.readF32(Shared.reference(reference));
        try (TorchModelRunner torch = TorchTestSupport.torch(model, 4L << 20)) {
            float[][] got = logitsPerPosition(torch, S1);
            int vocab = torch.spec().vocabSize();
            float[][] want = new float[S1.length][];
            for (int p = 0; p < S1.length; p++) want[p] = java.util.Arrays.copyOfRange(expected, p * vocab, (p + 1) * vocab);
            float diff = maxAbsDiff(got, want);
            assertTrue(diff <= tolerance, model + " vs " + reference + ": max |Δlogit| " + diff);
        }
    }

    @Test
    void storiesLogitsAtPositionZeroMatchLlama2c() throws Exception {
        float[] expected = new float[512];
        for (String line : Files.readAllLines(Shared.reference("stories260K/stories260K_logits_pos0_token1.txt"))) {
            String[] f = line.trim().split("\\s+");
            expected[Integer.parseInt(f[0])] = Float.parseFloat(f[1]);
        }
        try (TorchModelRunner torch = TorchTestSupport.torch("stories260K/stories260K.bin", 1L << 20)) {
            float[] got = logitsPerPosition(torch, new int[] {1})[0];
            assertTrue(maxAbsDiff(new float[][] {got}, new float[][] {expected}) <= 1e-4f);
        }
    }

    @Test
    void gptOssHiddenStatesMatchTheReferenceResiduals() {
        float[] expected = Shared.readF32(Shared.reference("gpt-oss-tiny-random/S1_residual_after_each_block_fp32.f32"));
        try (TorchModelRunner torch = TorchTestSupport.torch("gpt-oss-tiny-random/hf", 4L << 20)) {
            // One prefill of all 12 tokens, blocks scattered: positions 0–15 in block 5.
            var out = torch.execute(new Batch(List.of(), List.of(new io.basalt.spi.SequenceInput(1, S1, 0, new int[] {5}, true)),
                    Batch.HiddenStates.PER_LAYER));
            float[][][] states = out.hiddenStates().get(0);
            assertEquals(3, states.length);
            float worst = 0;
            for (int l = 0; l < 3; l++) {
                assertEquals(12, states[l].length);
                for (int t = 0; t < 12; t++) {
                    for (int d = 0; d < 64; d++) worst = Math.max(worst, Math.abs(states[l][t][d] - expected[(l * 12 + t) * 64 + d]));
                }
            }
            assertTrue(worst <= 1e-3f, "max |Δresidual| " + worst);
        }
    }

    /** Runs only where a CUDA libtorch sees a GPU (PYTORCH_LIBRARY_PATH); the same logits as on the CPU. */
    @Test
    void cudaMatchesCpuWhereAGpuIsPresent() {
        TorchTestSupport.torch();
        assumeTrue(Engine.getEngine("PyTorch").getGpuCount() > 0, "no GPU visible to libtorch");
        String previous = System.setProperty(TorchDevice.PROPERTY, "cuda");
        try (TorchModelRunner gpu = new TorchBackend().load(Shared.model(STORIES), new Backend.LoadConfig(1L << 20, 4, 64));
             ModelRunner cpu = cpu(STORIES, 1L << 20)) {
            assertTrue(gpu.device().startsWith("gpu"), gpu.device());
            int[] tokens = TorchTestSupport.mod(S1, 512);
            assertTrue(maxAbsDiff(logitsPerPosition(gpu, tokens), logitsPerPosition(cpu, tokens)) <= 1e-3f);
        } finally {
            if (previous == null) System.clearProperty(TorchDevice.PROPERTY);
            else System.setProperty(TorchDevice.PROPERTY, previous);
        }
    }
}
