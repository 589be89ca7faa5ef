package io.basalt.backend.cuda.check;

import io.basalt.backend.cuda.CudaProbe;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Step 3: each kernel launched once on fresh random inputs (a new seed every run) with its outputs poisoned (NaN, or
 * -7 for ids) first, compared with a CPU reference computed here in double precision. Gates (shared CUDA.md §8): relative
 * L2 error ≤ 1e-4 for fp32 paths, ≤ 1e-2 where bf16 weights are involved, ids exact, no NaN.
 */
final class KernelChecks {
    static final double FP32 = 1e-4;
    static final double BF16 = 1e-2;

    /** One kernel configuration: rel. L2 error against its tolerance (NaN error: a NaN in the output). */
    record Check(String name, double error, double tolerance, String note) {
        boolean passed() { return !Double.isNaN(error) && error <= tolerance; }
    }

    private final CudaProbe probe;
    private final SplittableRandom random;

    KernelChecks(CudaProbe probe, long seed) {
        this.probe = probe;
        this.random = new SplittableRandom(seed);
    }

    /** Every check (docs/CUDA.md §4 is every kernel's contract); one that throws (a kernel missing from the image, a launch error) is a failed check with the reason. */
    List<Check> runAll(boolean quick) {
        List<Check> out = new ArrayList<>();
        int dim = quick ? 256 : 2048;
        int n = quick ? 3 : 8;
        run(out, "rmsnorm fp32 " + n + "x" + dim, () -> rmsnorm(n, dim));
        run(out, "layernorm fp32 " + n + "x" + dim, () -> layernorm(n, dim));
        run(out, "add fp32", () -> add(n * dim + 13));
        run(out, "gelu fp32", () -> gelu(n * dim + 13));
        run(out, "swiglu fp32", () -> swiglu(n * dim + 13));
        run(out, "matmul fp32 weights", () -> matmul(false, quick ? 67 : 1027, quick ? 96 : 2048, n, true));
        run(out, "matmul bf16 weights", () -> matmul(true, quick ? 67 : 1027, quick ? 96 : 2048, n, false));
        run(out, "matmul bf16 gemm n=33", () -> matmul(true, quick ? 40 : 512, quick ? 64 : 1024, 33, true));
        run(out, "embed bf16 table", () -> embed(true, quick ? 100 : 32000, dim, n));
        run(out, "embed fp32 table", () -> embed(false, 100, dim, n));
        run(out, "gather fp32", () -> gather(n, dim));
        run(out, "argmax", () -> argmax(n, quick ? 1000 : 128256));
        run(out, "to_bf16 nearest even", () -> toBf16(n * dim + 13));
        new AttentionChecks(probe, random).addTo(out, quick);
        new MoeChecks(probe, random).addTo(out, quick);
        return out;
    }

    interface Body { Check run(); }

    static void run(List<Check> out, String name, Body body) {
        try {
            Check c = body.run();
            out.add(new Check(name, c.error(), c.tolerance(), c.note()));
        } catch (RuntimeException e) {
            out.add(new Check(name, Double.NaN, 0, "error: " + (e.getMessage() == null ? e.toString() : e.getMessage())));
        }
    }

    private Check rmsnorm(int n, int dim) {
        float[] x = randn(n * dim), w = randn(dim), out = poisoned(n * dim);
        float eps = 1e-5f;
        probe.launchOnHost("basalt_rmsnorm", new int[] {n}, new int[] {256}, out, x, w, n, dim, eps);
        double[] ref = new double[n * dim];
        for (int r = 0; r < n; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
            double inv = 1 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) ref[r * dim + i] = x[r * dim + i] * inv * w[i];
        }
        return new Check("", relL2(out, ref), FP32, "");
    }

    private Check layernorm(int n, int dim) {
        float[] x = randn(n * dim), w = randn(dim), b = randn(dim), out = poisoned(n * dim);
        float eps = 1e-5f;
        probe.launchOnHost("basalt_layernorm", new int[] {n}, new int[] {256}, out, x, w, b, n, dim, eps);
        double[] ref = new double[n * dim];
        for (int r = 0; r < n; r++) {
            double mean = 0, var = 0;
            for (int i = 0; i < dim; i++) mean += x[r * dim + i];
            mean /= dim;
            for (int i = 0; i < dim; i++) var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
            double rstd = 1 / Math.sqrt(var / dim + eps);
            for (int i = 0; i < dim; i++) ref[r * dim + i] = (x[r * dim + i] - mean) * rstd * w[i] + b[i];
        }
        return new Check("", relL2(out, ref), FP32, "");
    }

    private Check add(int count) {
        float[] x = randn(count), y = randn(count);
        double[] ref = new double[count];
        for (int i = 0; i < count; i++) ref[i] = (double) x[i] + y[i];
        probe.launchOnHost("basalt_add", new int[] {ceil(count, 256)}, new int[] {256}, x, y, (long) count);
        return new Check("", relL2(x, ref), FP32, "");
    }

    private Check gelu(int count) {
        float[] x = randn(count);
        double[] ref = new double[count];
        double s = Math.sqrt(2 / Math.PI);
        for (int i = 0; i < count; i++) ref[i] = 0.5 * x[i] * (1 + Math.tanh(s * (x[i] + 0.044715 * x[i] * x[i] * x[i])));
        probe.launchOnHost("basalt_gelu", new int[] {ceil(count, 256)}, new int[] {256}, x, (long) count);
        return new Check("", relL2(x, ref), FP32, "tanh approximation (gelu_new)");
    }

    private Check swiglu(int count) {
        float[] gate = randn(count), up = randn(count), out = poisoned(count);
        double[] ref = new double[count];
        for (int i = 0; i < count; i++) ref[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
        probe.launchOnHost("basalt_swiglu", new int[] {ceil(count, 256)}, new int[] {256}, out, gate, up, (long) count);
        return new Check("", relL2(out, ref), FP32, "");
    }

    /** y[n][rows] = x[n][cols] · W[rows][cols]ᵀ (+ bias): fp32 weights are an fp32 path, bf16 weights a bf16 one. */
    private Check matmul(boolean bf16, int rows, int cols, int n, boolean bias) {
        float[] wf = randn(rows * cols);
        short[] wb = null;
        if (bf16) {
            wb = new short[wf.length];
            for (int i = 0; i < wf.length; i++) {
                wb[i] = (short) (Float.floatToRawIntBits(wf[i]) >>> 16);
                wf[i] = Float.intBitsToFloat((wb[i] & 0xffff) << 16);
            }
        }
        float[] x = randn(n * cols), b = bias ? randn(rows) : null, y = poisoned(n * rows);
        probe.launchOnHost("basalt_matmul", new int[] {ceil(rows, 4), ceil(n, 8)}, new int[] {128},
                y, bf16 ? wb : wf, bf16 ? 1 : 0, x, b, rows, cols, n);
        double[] ref = new double[n * rows];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < rows; o++) {
                double acc = b == null ? 0 : b[o];
                for (int i = 0; i < cols; i++) acc += (double) wf[o * cols + i] * x[r * cols + i];
                ref[r * rows + o] = acc;
            }
        }
        // The reference uses the very bf16 values the kernel reads, so only accumulation order differs: the bf16
        // tolerance covers kernels that round activations to bf16 for tensor cores.
        return new Check("", relL2(y, ref), bf16 ? BF16 : FP32, bias ? "with bias" : "");
    }

    private Check embed(boolean bf16, int vocab, int dim, int n) {
        float[] tf = randn(vocab * dim);
        short[] tb = null;
        if (bf16) {
            tb = new short[tf.length];
            for (int i = 0; i < tf.length; i++) {
                tb[i] = (short) (Float.floatToRawIntBits(tf[i]) >>> 16);
                tf[i] = Float.intBitsToFloat((tb[i] & 0xffff) << 16);
            }
        }
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = random.nextInt(vocab);
        ids[0] = vocab - 1;
        float[] out = poisoned(n * dim);
        probe.launchOnHost("basalt_embed", new int[] {n}, new int[] {256}, out, bf16 ? tb : tf, bf16 ? 1 : 0, ids, n, dim);
        double[] ref = new double[n * dim];
        for (int r = 0; r < n; r++) for (int i = 0; i < dim; i++) ref[r * dim + i] = tf[ids[r] * dim + i];
        return new Check("", relL2(out, ref), FP32, "exact copy expected");
    }

    private Check gather(int n, int dim) {
        int src = n + 5;
        float[] x = randn(src * dim), out = poisoned(n * dim);
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) rows[i] = random.nextInt(src);
        probe.launchOnHost("basalt_gather", new int[] {n}, new int[] {256}, out, x, rows, n, dim);
        double[] ref = new double[n * dim];
        for (int r = 0; r < n; r++) for (int i = 0; i < dim; i++) ref[r * dim + i] = x[rows[r] * dim + i];
        return new Check("", relL2(out, ref), FP32, "");
    }

    private Check argmax(int n, int vocab) {
        float[] logits = randn(n * vocab);
        int[] want = new int[n];
        for (int r = 0; r < n; r++) {
            // A clear winner at a random place (ties are the kernel's choice, not an error).
            want[r] = random.nextInt(vocab);
            logits[r * vocab + want[r]] = 100f + r;
        }
        int[] out = new int[n];
        Arrays.fill(out, -7);
        probe.launchOnHost("basalt_argmax", new int[] {n}, new int[] {256}, out, logits, n, vocab);
        int wrong = 0;
        for (int r = 0; r < n; r++) if (out[r] != want[r]) wrong++;
        return new Check("", wrong, 0, wrong == 0 ? "exact" : wrong + " of " + n + " rows wrong: got " + Arrays.toString(out));
    }

    /** fp32 → bf16 bits, round to nearest even: exact against the integer rounding, ties and NaN included. */
    private Check toBf16(int count) {
        float[] x = randn(count);
        x[0] = Float.intBitsToFloat(0x3F808000); // a tie between two bf16 values: rounds to the even one
        x[1] = Float.intBitsToFloat(0x3F818000); // a tie rounding up
        x[2] = Float.NaN;
        short[] out = new short[count];
        Arrays.fill(out, (short) 0x7FC1);
        probe.launchOnHost("basalt_to_bf16", new int[] {ceil(count, 256)}, new int[] {256}, out, x, (long) count);
        int wrong = 0;
        for (int i = 0; i < count; i++) {
            int bits = Float.floatToRawIntBits(x[i]);
            boolean nan = Float.isNaN(x[i]);
            short want = nan ? 0 : (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
            boolean ok = nan ? Float.isNaN(Float.intBitsToFloat((out[i] & 0xFFFF) << 16)) : out[i] == want;
            if (!ok) wrong++;
        }
        return new Check("", wrong, 0, wrong == 0 ? "exact" : wrong + " of " + count + " values wrong");
    }

    /** ‖got − ref‖ / ‖ref‖; NaN when got holds a NaN (a poisoned element left unwritten, or a real NaN). */
    static double relL2(float[] got, double[] ref) {
        if (got.length != ref.length) throw new IllegalArgumentException("length " + got.length + " vs " + ref.length);
        double num = 0, den = 0;
        for (int i = 0; i < got.length; i++) {
            if (Float.isNaN(got[i])) return Double.NaN;
            double d = got[i] - ref[i];
            num += d * d;
            den += ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private float[] randn(int count) { return randn(random, count); }

    /** Roughly normal values (a sum of three uniforms, σ ≈ 1) in [-3, 3): never NaN, never huge. */
    static float[] randn(SplittableRandom random, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) a[i] = (float) ((random.nextDouble() + random.nextDouble() + random.nextDouble() - 1.5) * 2);
        return a;
    }

    static float[] poisoned(int count) {
        float[] a = new float[count];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    static int ceil(int a, int b) { return (a + b - 1) / b; }
}
