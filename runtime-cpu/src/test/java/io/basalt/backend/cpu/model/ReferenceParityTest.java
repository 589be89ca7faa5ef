package io.basalt.backend.cpu.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.backend.cpu.kernels.Mxfp4Experts;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormats;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The forward pass against peer implementations' outputs (reference/CASES.md). */
class ReferenceParityTest {
    static final int[] S1 = {0, 17, 999, 421, 5, 5, 5, 300, 42, 731, 1, 268};

    @Test
    void stories260kGreedy200FromBosMatchesLlama2c() throws IOException {
        int[] expected = Arrays.stream(Files.readString(Shared.reference("stories260K/greedy_200_ids.txt")).trim().split("\\s+"))
                .mapToInt(Integer::parseInt).toArray();
        assertEquals(200, expected.length);
        try (Model model = ModelLoader.load(Shared.model("stories260K/stories260K.bin"))) {
            KvCache cache = model.newCache();
            int token = 1; // BOS
            int[] got = new int[200];
            for (int i = 0; i < 200; i++) {
                token = SequenceSampler.argmax(model.forward(cache, new int[] {token}, Model.Logits.LAST)[0]);
                got[i] = token;
            }
            assertArrayEquals(expected, got);
        }
    }

    @Test
    void stories260kLogitsAtPositionZeroMatchLlama2c() throws IOException {
        float[] expected = new float[512];
        for (String line : Files.readAllLines(Shared.reference("stories260K/stories260K_logits_pos0_token1.txt"))) {
            String[] parts = line.trim().split("\\s+");
            expected[Integer.parseInt(parts[0])] = Float.parseFloat(parts[1]);
        }
        try (Model model = ModelLoader.load(Shared.model("stories260K/stories260K.bin"))) {
            float[] logits = model.forward(model.newCache(), new int[] {1}, Model.Logits.LAST)[0];
            assertClose(expected, logits, 1e-4f, "stories260K logits at position 0");
            assertEquals(403, SequenceSampler.argmax(logits));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny-random/hf", "gpt2-tiny-random/llmc/gpt2_tiny_random.bin"})
    void gpt2TinyS1LogitsMatchLlmC(String path) {
        float[] expected = Shared.readF32(Shared.reference("gpt2-tiny-random/S1_logits_fp32.f32"));
        try (Model model = ModelLoader.load(Shared.model(path))) {
            float[][] logits = model.forward(model.newCache(), S1, Model.Logits.ALL);
            assertClose(expected, flatten(logits), 1e-4f, path + " S1 logits");
            int[] argmax = Arrays.stream(logits).mapToInt(SequenceSampler::argmax).toArray();
            assertArrayEquals(new int[] {333, 645, 995, 6, 260, 260, 150, 797, 282, 499, 550, 784}, argmax);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt-oss-tiny-random/hf", "gpt-oss-tiny-random/original"})
    void gptOssTinyS1LogitsAndResidualsMatchOpenAiReference(String path) throws IOException {
        float[] expected = Shared.readF32(Shared.reference("gpt-oss-tiny-random/S1_logits_fp32.f32"));
        float[] expectedResiduals = Shared.readF32(Shared.reference("gpt-oss-tiny-random/S1_residual_after_each_block_fp32.f32"));
        JsonNode ref = new ObjectMapper().readTree(Shared.reference("gpt-oss-tiny-random/reference.json").toFile());
        try (Model model = ModelLoader.load(Shared.model(path))) {
            float[] residuals = new float[3 * 12 * 64];
            float[][] logits = model.forward(model.newCache(), S1, Model.Logits.ALL,
                    (layer, token, r) -> System.arraycopy(r, 0, residuals, (layer * 12 + token) * 64, 64));
            assertClose(expected, flatten(logits), 1e-3f, path + " S1 logits");
            assertClose(expectedResiduals, residuals, 1e-3f, path + " residual after each block");
            int[] argmax = Arrays.stream(logits).mapToInt(SequenceSampler::argmax).toArray();
            int[] refArgmax = new int[12];
            for (int i = 0; i < 12; i++) refArgmax[i] = ref.at("/S1/argmax_fp32").get(i).asInt();
            assertArrayEquals(refArgmax, argmax);
        }
    }

    @Test
    void mxfp4DequantizationIsExact() throws IOException {
        float[] expected = Shared.readF32(Shared.reference("gpt-oss-tiny-random/block0_mlp1_weight_dequant.f32"));
        try (Checkpoint ck = ModelFormats.open(Shared.model("gpt-oss-tiny-random/original"))) {
            Mxfp4Experts experts = new Mxfp4Experts(ck.tensor("block.0.mlp.mlp1_weight.blocks").data(),
                    ck.tensor("block.0.mlp.mlp1_weight.scales").data(), 8, 128, 64);
            float[] row = new float[64];
            for (int e = 0; e < 8; e++) {
                for (int r = 0; r < 128; r++) {
                    experts.row(e, r, row);
                    for (int c = 0; c < 64; c++) {
                        float want = expected[(e * 128 + r) * 64 + c];
                        assertEquals(Float.floatToIntBits(want == 0f ? 0f : want), Float.floatToIntBits(row[c] == 0f ? 0f : row[c]),
                                "expert " + e + " row " + r + " col " + c);
                    }
                }
            }
        }
    }

    @Test
    void yarnInverseFrequenciesMatchReference() throws IOException {
        JsonNode yarn = new ObjectMapper().readTree(Shared.reference("gpt-oss-tiny-random/reference.json").toFile()).get("yarn");
        try (GptOss model = (GptOss) ModelLoader.load(Shared.model("gpt-oss-tiny-random/hf"))) {
            float[] inv = model.rope().invFreq();
            assertEquals(32, yarn.get("inv_freq").size());
            for (int i = 0; i < 32; i++) assertEquals(yarn.get("inv_freq").get(i).asDouble(), inv[i], 1e-6, "inv_freq[" + i + "]");
            assertEquals(yarn.get("concentration").asDouble(), model.rope().concentration(), 1e-6);
        }
    }

    /** Token-by-token decoding with the cache reproduces the full-sequence forward. */
    @ParameterizedTest
    @ValueSource(strings = {"stories260K/stories260K.bin", "gpt2-tiny-random/hf", "gpt-oss-tiny-random/hf",
            "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"})
    void incrementalDecodingMatchesFullSequence(String path) {
        try (Model model = ModelLoader.load(Shared.model(path))) {
            int[] tokens = new int[40]; // past gpt-oss-tiny's sliding window of 4
            for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 37 + 11) % Math.min(model.info().vocabSize(), 500);
            float[][] full = model.forward(model.newCache(), tokens, Model.Logits.ALL);
            KvCache cache = model.newCache();
            // A prefill chunk, then one token at a time.
            float[][] step = new float[tokens.length][];
            float[][] chunk = model.forward(cache, Arrays.copyOf(tokens, 5), Model.Logits.ALL);
            System.arraycopy(chunk, 0, step, 0, 5);
            for (int i = 5; i < tokens.length; i++) {
                step[i] = model.forward(cache, new int[] {tokens[i]}, Model.Logits.LAST)[0];
            }
            assertEquals(tokens.length, cache.length());
            assertClose(flatten(full), flatten(step), 1e-4f, path + " incremental vs full");
        }
    }

    static float[] flatten(float[][] rows) {
        int n = 0;
        for (float[] r : rows) n += r.length;
        float[] out = new float[n];
        int o = 0;
        for (float[] r : rows) {
            System.arraycopy(r, 0, out, o, r.length);
            o += r.length;
        }
        return out;
    }

    static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        float worst = 0f;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            float d = Math.abs(expected[i] - actual[i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        System.out.printf("%s: max |Δ| = %.3g (tolerance %.1g)%n", what, worst, tolerance);
        assertTrue(worst <= tolerance, what + ": max |Δ| " + worst + " at index " + at + " > " + tolerance);
    }
}
