package io.basalt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.basalt.backend.Backends;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.Quantization;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.StorageDtype;
import io.basalt.testing.Shared;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A prefill of more rows than {@link Matmuls#LT_MIN_ROWS} takes cuBLASLt for its fp32 matrices (the stand-in's
 * reference GEMM here): its last-token logits equal the CPU backend's, as the kernel path's do. With bf16 storage the
 * prefill goes through basalt_to_bf16 and cuBLASLt's bf16 GEMM instead.
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

    /**
     * A bf16-storage prefill of 41 rows on the cuda backend, three ways on the same tokens: the CPU backend (bf16
     * matrices × fp32 activations; its classifier kept as stored, Weights.classifier), the cuda backend with cuBLASLt
     * (basalt_to_bf16 rounds the activations too, then bf16·bf16 with fp32 accumulation), and the cuda backend without
     * cuBLASLt (basalt_matmul: bf16 matrices × fp32 activations, the classifier kept as stored like the CPU's).
     *
     * <p>basalt_matmul computes what the CPU backend computes: within fp32 rounding ({@link #SAME_MATH_MAX_ABS}).
     * cuBLASLt differs from both by the activation rounding alone (a relative 2⁻⁹ per GEMM input, carried through the
     * layers): {@link #BF16_ACTIVATION_MAX_ABS}, {@link #BF16_MAX_ABS}. The bounds sit just above what the stand-in
     * measures (its GEMM is a plain fp32 loop, so the figures are deterministic; a GPU's cuBLASLt sums in another order,
     * a 1e-5 effect), far inside the parity harness's bf16 defaults (Thresholds.defaults(BF16): max_abs 2.0), and the
     * greedy token must agree. Measured (stories260K, gpt2-tiny-random, llama-2-tiny-random): cuBLASLt vs basalt_matmul
     * and cuda vs cpu 0.019, 0.035, 1.3e-5; basalt_matmul vs cpu 6.7e-6, 5.3e-6, 3.0e-8.
     */
    static final double BF16_ACTIVATION_MAX_ABS = 5e-2;

    /** See {@link #BF16_ACTIVATION_MAX_ABS}: cuda (cuBLASLt bf16) vs the CPU backend, bf16 storage on both. */
    static final double BF16_MAX_ABS = 5e-2;

    /** See {@link #BF16_ACTIVATION_MAX_ABS}: cuda without cuBLASLt vs the CPU backend, the same math (fp32's bound). */
    static final double SAME_MATH_MAX_ABS = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"stories260K/stories260K.bin", "gpt2-tiny-random/hf", "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"})
    void aLongBf16PrefillTakesCublasLtInBf16AndStaysNearTheCpuBackend(String name) {
        Path model = Shared.model(name);
        Backend.LoadConfig load = new Backend.LoadConfig(16L << 20, 4, 256, StorageDtype.BF16, Quantization.NONE);
        try (Backend cpu = Backends.open("cpu"); ModelRunner a = cpu.load(model, load);
             Backend cuda = Backends.open("cuda"); ModelRunner b = cuda.load(model, load);
             ModelRunner c = withoutCublasLt(() -> cuda.load(model, load))) {
            int vocab = a.spec().vocabSize();
            int[] tokens = new Random(19).ints(Matmuls.LT_MIN_ROWS + 9, 1, vocab).toArray();
            Batch step = new Batch(List.of(), List.of(new SequenceInput(0, tokens, 0, new int[] {0, 1, 2, 3}, true)),
                    Batch.HiddenStates.NONE);
            float[] x = a.execute(step).logits(0);
            RunnerStandin.reset();
            float[] y = b.execute(step).logits(0);
            List<String> log = RunnerStandin.log();
            assertTrue(log.stream().anyMatch(l -> l.startsWith("launch basalt_to_bf16 ")), name + ": no basalt_to_bf16 in " + log);
            assertTrue(log.stream().anyMatch(l -> l.startsWith("launch cublasLtMatmul ")), name + ": no cuBLASLt GEMM in " + log);
            // basalt_matmul runs the head's single gathered row only (grid y = CEIL(1, 8)); the 41-row products do not
            String rowsGrid = "," + (tokens.length + 7) / 8 + ",1";
            assertFalse(log.stream().anyMatch(l -> l.startsWith("launch basalt_matmul ") && l.endsWith(rowsGrid)),
                    name + ": a bf16 product of " + tokens.length + " rows went to basalt_matmul: " + log);
            RunnerStandin.reset();
            float[] z = c.execute(step).logits(0);
            assertFalse(RunnerStandin.log().stream().anyMatch(l -> l.startsWith("launch cublasLtMatmul ")), name + ": cuBLASLt was off");
            double activations = maxAbs(y, z);
            double cpuVsCuda = maxAbs(x, y);
            System.out.printf("bf16 prefill %s: max |Δlogit| cuBLASLt vs basalt_matmul %.3g, cuda vs cpu %.3g (basalt_matmul vs cpu %.3g)%n",
                    name, activations, cpuVsCuda, maxAbs(x, z));
            assertTrue(activations <= BF16_ACTIVATION_MAX_ABS,
                    name + ": cuBLASLt vs basalt_matmul max |Δlogit| " + activations + " > " + BF16_ACTIVATION_MAX_ABS);
            assertTrue(cpuVsCuda <= BF16_MAX_ABS, name + ": cuda vs cpu max |Δlogit| " + cpuVsCuda + " > " + BF16_MAX_ABS);
            assertTrue(maxAbs(x, z) <= SAME_MATH_MAX_ABS, name + ": basalt_matmul vs cpu max |Δlogit| " + maxAbs(x, z));
            assertEquals(argmax(x), argmax(y), name + ": greedy token, cpu vs cuda");
            assertEquals(argmax(z), argmax(y), name + ": greedy token, basalt_matmul vs cuBLASLt");
        }
    }

    /** Loads with cuBLASLt pointed at nothing, so every product takes basalt_matmul. */
    private static ModelRunner withoutCublasLt(java.util.function.Supplier<ModelRunner> load) {
        String key = CublasLt.LIBRARY_PROPERTY;
        String before = System.getProperty(key);
        System.setProperty(key, "/nonexistent/libcublasLt.so.13");
        try {
            return load.get();
        } finally {
            if (before == null) System.clearProperty(key);
            else System.setProperty(key, before);
        }
    }

    private static double maxAbs(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
