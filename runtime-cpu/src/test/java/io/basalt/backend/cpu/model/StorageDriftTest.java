package io.basalt.backend.cpu.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.spi.Quantization;
import io.basalt.spi.StorageDtype;
import io.basalt.model.layout.LoadOptions;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How far bf16, f16 and q8_0 weight storage moves the logits from fp32 storage over the S1 tokens
 * of reference/CASES.md (max |Δlogit| and top-1 agreement), with bounds at about twice what was
 * measured so a regression fails; and greedy stories260K in bf16 (and f16, q8_0) against
 * llama2.c's fp32 ids.
 */
class StorageDriftTest {
    static final LoadOptions FP32 = LoadOptions.of(StorageDtype.FP32);
    static final LoadOptions BF16 = LoadOptions.of(StorageDtype.BF16);
    static final LoadOptions F16 = LoadOptions.of(StorageDtype.F16);
    static final LoadOptions Q8_0 = new LoadOptions(StorageDtype.AUTO, Quantization.Q8_0);

    static final String STORIES = "stories260K/stories260K.bin";
    static final String GPT2_HF = "gpt2-tiny-random/hf";
    static final String GPT2_LLMC = "gpt2-tiny-random/llmc/gpt2_tiny_random.bin";
    static final String LLAMA_GGUF = "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf";
    static final String GPT_OSS_HF = "gpt-oss-tiny-random/hf";
    static final String GPT_OSS_ORIGINAL = "gpt-oss-tiny-random/original";

    /** max |Δlogit| over every position and vocabulary entry; positions whose argmax agrees with fp32. */
    record Drift(double maxAbsDelta, double maxAbsLogit, int top1Agree, int positions) {
        double agreement() { return (double) top1Agree / positions; }
    }

    /**
     * model, storage, bound on max |Δlogit|, least top-1 agreement (of 12 positions). Bounds are
     * about twice the drift measured when this test was written (docs/ARCHITECTURE.md has the
     * table); agreement may lose one position to a changed summation order in the kernels. 1e-4 marks
     * a lossless conversion (an F16 file widened to fp32, a BF16 file whose values f16 holds
     * exactly): only the kernels' summation order differs.
     */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(STORIES, BF16, 0.12, 11),            // measured 0.0505, 12/12 (classifier kept fp32)
                Arguments.of(STORIES, F16, 0.015, 11),            // 0.00588, 12/12
                Arguments.of(STORIES, Q8_0, 0.3, 11),             // 0.136, 12/12
                Arguments.of(GPT2_HF, BF16, 0.12, 11),            // 0.0460, 12/12
                Arguments.of(GPT2_HF, F16, 0.015, 11),            // 0.00560, 12/12
                Arguments.of(GPT2_HF, Q8_0, 0.45, 10),            // 0.211, 11/12
                Arguments.of(GPT2_LLMC, BF16, 0.12, 11),          // same weights in [out, in] rows
                Arguments.of(GPT2_LLMC, F16, 0.015, 11),
                Arguments.of(GPT2_LLMC, Q8_0, 0.45, 10),
                Arguments.of(LLAMA_GGUF, BF16, 0.0015, 11),       // 0.000747 (logits within ±0.25), 12/12
                Arguments.of(LLAMA_GGUF, F16, 1e-4, 12),          // the file is F16: lossless
                Arguments.of(LLAMA_GGUF, Q8_0, 1e-4, 11),         // 2.25e-5: only ffn_down has rows of 32
                Arguments.of(GPT_OSS_HF, BF16, 1e-4, 12),         // the file is BF16: lossless
                Arguments.of(GPT_OSS_HF, F16, 1e-4, 12),          // lossless for these values
                Arguments.of(GPT_OSS_HF, Q8_0, 1.75, 10),         // 0.881, 11/12
                Arguments.of(GPT_OSS_ORIGINAL, BF16, 1e-4, 12),
                Arguments.of(GPT_OSS_ORIGINAL, F16, 1e-4, 12),
                Arguments.of(GPT_OSS_ORIGINAL, Q8_0, 1.75, 10));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void s1LogitDriftAgainstFp32StaysWithinMeasuredBounds(String model, LoadOptions options, double maxDelta, int minAgree) {
        int[] tokens = s1For(model);
        Drift d = drift(model, tokens, options);
        System.out.printf("StorageDriftTest: %-52s %-26s max|Δlogit| %.3g (max|logit| %.3g), top-1 %d/%d%n",
                model, options.describe(), d.maxAbsDelta(), d.maxAbsLogit(), d.top1Agree(), d.positions());
        assertTrue(d.maxAbsDelta() <= maxDelta, model + " " + options.describe() + ": max |Δlogit| " + d.maxAbsDelta() + " > " + maxDelta);
        assertTrue(d.top1Agree() >= minAgree, model + " " + options.describe() + ": top-1 agreement " + d.top1Agree() + "/" + d.positions());
    }

    /** stories260K over a longer, natural sequence: BOS and the first 199 greedy ids (200 positions). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("greedyTextCases")
    void stories260kDriftOverTheGreedyText(LoadOptions options, double maxDelta) throws IOException {
        Drift d = drift(STORIES, greedyText(), options);
        System.out.printf("StorageDriftTest: %-52s %-26s max|Δlogit| %.3g (max|logit| %.3g), top-1 %d/%d%n",
                STORIES + " (greedy text)", options.describe(), d.maxAbsDelta(), d.maxAbsLogit(), d.top1Agree(), d.positions());
        assertTrue(d.maxAbsDelta() <= maxDelta, options.describe() + ": max |Δlogit| " + d.maxAbsDelta() + " > " + maxDelta);
        assertTrue(d.top1Agree() >= 198, options.describe() + ": top-1 agreement " + d.top1Agree() + "/" + d.positions());
    }

    /** Measured: bf16 0.106 (200/200), f16 0.0107 (200/200), q8_0 0.294 (199/200). */
    static Stream<Arguments> greedyTextCases() {
        return Stream.of(Arguments.of(BF16, 0.2), Arguments.of(F16, 0.025), Arguments.of(Q8_0, 0.6));
    }

    /**
     * Greedy stories260K from BOS in bf16 is llama2.c's fp32 text, all 200 ids (issue 5). With every
     * matrix in bf16 it left the text at index 185, where fp32 nearly ties (279 leads 336 by 0.0042);
     * keeping the tied classifier as stored ({@link io.basalt.backend.cpu.model.Weights#classifier}) holds it.
     */
    @Test
    void stories260kGreedy200FromBosInBf16IsLlama2csText() throws IOException {
        int[] expected = greedyReference();
        int[] got = greedy(BF16, expected.length);
        int k = agreeingPrefix(expected, got);
        System.out.println("StorageDriftTest: bf16 greedy agrees with llama2.c for " + k + "/200 tokens");
        assertEquals(expected.length, k, "bf16 greedy diverges from llama2.c at index " + k);
    }

    /** Not a requirement, a statement: how far f16 and q8_0 greedy decoding follow the fp32 text (measured 200 and 114). */
    @Test
    void stories260kGreedyPrefixInF16AndQ8_0() throws IOException {
        int[] expected = greedyReference();
        int f16 = agreeingPrefix(expected, greedy(F16, expected.length));
        int q8 = agreeingPrefix(expected, greedy(Q8_0, expected.length));
        System.out.println("StorageDriftTest: greedy agrees with llama2.c for " + f16 + "/200 tokens in f16, " + q8 + "/200 in q8_0");
        assertTrue(f16 >= 185, "f16 greedy diverges at " + f16);
        assertTrue(q8 >= 100, "q8_0 greedy diverges at " + q8);
    }

    static int[] greedyText() throws IOException {
        int[] tokens = new int[200];
        tokens[0] = 1; // BOS
        System.arraycopy(greedyReference(), 0, tokens, 1, 199);
        return tokens;
    }

    /** S1 of CASES.md; stories260K's vocabulary has 512 ids, so there its ids are taken mod 512. */
    static int[] s1For(String model) {
        if (!model.equals(STORIES)) return ReferenceParityTest.S1;
        return Arrays.stream(ReferenceParityTest.S1).map(t -> t % 512).toArray();
    }

    static Drift drift(String model, int[] tokens, LoadOptions options) {
        float[][] ref = logits(model, tokens, FP32);
        float[][] got = logits(model, tokens, options);
        assertEquals(ref.length, got.length);
        double maxDelta = 0;
        double maxLogit = 0;
        int agree = 0;
        for (int p = 0; p < ref.length; p++) {
            for (int v = 0; v < ref[p].length; v++) {
                maxDelta = Math.max(maxDelta, Math.abs((double) ref[p][v] - got[p][v]));
                maxLogit = Math.max(maxLogit, Math.abs(ref[p][v]));
            }
            if (SequenceSampler.argmax(ref[p]) == SequenceSampler.argmax(got[p])) agree++;
        }
        assertTrue(Double.isFinite(maxDelta), model + " " + options.describe() + " logits are not finite");
        return new Drift(maxDelta, maxLogit, agree, ref.length);
    }

    static float[][] logits(String model, int[] tokens, LoadOptions options) {
        try (Model m = ModelLoader.load(Shared.model(model), options)) {
            return m.forward(m.newCache(), tokens, Model.Logits.ALL);
        }
    }

    static int[] greedy(LoadOptions options, int n) {
        try (Model model = ModelLoader.load(Shared.model(STORIES), options)) {
            KvCache cache = model.newCache();
            int token = 1; // BOS
            int[] got = new int[n];
            for (int i = 0; i < n; i++) {
                token = SequenceSampler.argmax(model.forward(cache, new int[] {token}, Model.Logits.LAST)[0]);
                got[i] = token;
            }
            return got;
        }
    }

    static int[] greedyReference() throws IOException {
        return Arrays.stream(Files.readString(Shared.reference("stories260K/greedy_200_ids.txt")).trim().split("\\s+"))
                .mapToInt(Integer::parseInt).toArray();
    }

    static int agreeingPrefix(int[] a, int[] b) {
        int i = 0;
        while (i < Math.min(a.length, b.length) && a[i] == b[i]) i++;
        return i;
    }
}
