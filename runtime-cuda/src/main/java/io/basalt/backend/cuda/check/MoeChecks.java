package io.basalt.backend.cuda.check;

import static io.basalt.backend.cuda.check.KernelChecks.FP32;
import static io.basalt.backend.cuda.check.KernelChecks.ceil;
import static io.basalt.backend.cuda.check.KernelChecks.poisoned;
import static io.basalt.backend.cuda.check.KernelChecks.randn;
import static io.basalt.backend.cuda.check.KernelChecks.relL2;

import io.basalt.backend.cuda.CudaProbe;
import io.basalt.backend.cuda.check.KernelChecks.Check;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Step 3, the gpt-oss kernels (SwiGLU with clamping, router top-k, MXFP4 expert GEMV, expert combine) and the
 * bandwidth probe's checksum, each against a double-precision reference of docs/CUDA.md §4.
 */
final class MoeChecks {
    static final float LIMIT = 7f;
    static final int EXPERTS = 32, TOP_K = 4;
    /** FP4 E2M1 values by nibble (docs/CUDA.md §4; the low nibble is the even element). */
    static final double[] FP4 = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};

    private final CudaProbe probe;
    private final SplittableRandom random;

    MoeChecks(CudaProbe probe, SplittableRandom random) {
        this.probe = probe;
        this.random = random;
    }

    void addTo(List<Check> out, boolean quick) {
        int n = quick ? 3 : 8;
        int rows = quick ? 40 : 512, cols = quick ? 128 : 2880, experts = quick ? 8 : EXPERTS;
        KernelChecks.run(out, "swiglu_oss limit 7", () -> swigluOss(n, quick ? 200 : 2880));
        KernelChecks.run(out, "moe_topk 32 experts k 4 (ties)", () -> topk(Math.max(n, 4)));
        KernelChecks.run(out, "mxfp4_matmul x shared + bias", () -> mxfp4(n, experts, rows, cols, false, true));
        KernelChecks.run(out, "mxfp4_matmul x per slot", () -> mxfp4(n, experts, rows, cols, true, false));
        KernelChecks.run(out, "moe_combine k 4", () -> combine(n, quick ? 256 : 2880));
        KernelChecks.run(out, "read_probe XOR per block", () -> readProbe(quick ? (9 << 20) + 13 : (64 << 20) + 13));
    }

    /** gate_up interleaved with values up to ±9, so both clamps (glu ≤ 7, |lin| ≤ 7) are hit. */
    private Check swigluOss(int n, int ff) {
        float[] gateUp = randn(random, n * 2 * ff), out = poisoned(n * ff);
        for (int i = 0; i < gateUp.length; i++) gateUp[i] *= 3;
        double[] ref = new double[n * ff];
        for (int i = 0; i < n * ff; i++) {
            double glu = Math.min(gateUp[2 * i], LIMIT), lin = Math.max(-LIMIT, Math.min(LIMIT, gateUp[2 * i + 1]));
            ref[i] = glu / (1 + Math.exp(-1.702 * glu)) * (lin + 1);
        }
        probe.launchOnHost("basalt_swiglu_oss", new int[] {ceil(n * ff, 256)}, new int[] {256}, out, gateUp, n, ff, LIMIT);
        return new Check("", relL2(out, ref), FP32, "");
    }

    /**
     * Random router logits with ties planted: row 0 two experts tied at the top, row 1 a tie across the k-th place,
     * row 2 all experts equal (ids 0..k-1). Ties go to the lower expert id; weights are the softmax over the k picked.
     */
    private Check topk(int n) {
        float[] logits = randn(random, n * EXPERTS);
        plantTies(logits);
        int[] ids = new int[n * TOP_K];
        Arrays.fill(ids, -7);
        float[] weights = poisoned(n * TOP_K);
        int[] wantIds = new int[n * TOP_K];
        double[] wantWeights = new double[n * TOP_K];
        for (int i = 0; i < n; i++) topkRow(logits, i, wantIds, wantWeights);
        probe.launchOnHost("basalt_moe_topk", new int[] {n}, new int[] {32}, ids, weights, logits, n, EXPERTS, TOP_K);
        int wrong = 0;
        for (int i = 0; i < ids.length; i++) if (ids[i] != wantIds[i]) wrong++;
        if (wrong > 0) return new Check("", wrong, 0, wrong + " of " + ids.length + " ids wrong: got " + Arrays.toString(ids) + ", want " + Arrays.toString(wantIds));
        return new Check("", relL2(weights, wantWeights), FP32, "ids exact, ties to the lower id; error is the weights'");
    }

    private void plantTies(float[] logits) {
        int e1 = random.nextInt(EXPERTS), e2 = (e1 + 1 + random.nextInt(EXPERTS - 1)) % EXPERTS;
        logits[e1] = logits[e2] = 5f;
        Integer[] order = byLogit(logits, 1);
        logits[EXPERTS + order[TOP_K]] = logits[EXPERTS + order[TOP_K - 1]];
        Arrays.fill(logits, 2 * EXPERTS, 3 * EXPERTS, 0.25f);
    }

    /** Expert ids of row i by logit descending, ties by id ascending. */
    private static Integer[] byLogit(float[] logits, int row) {
        Integer[] order = new Integer[EXPERTS];
        for (int e = 0; e < EXPERTS; e++) order[e] = e;
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(logits[row * EXPERTS + b], logits[row * EXPERTS + a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        return order;
    }

    private static void topkRow(float[] logits, int row, int[] ids, double[] weights) {
        Integer[] order = byLogit(logits, row);
        double max = logits[row * EXPERTS + order[0]], sum = 0;
        for (int j = 0; j < TOP_K; j++) {
            ids[row * TOP_K + j] = order[j];
            weights[row * TOP_K + j] = Math.exp(logits[row * EXPERTS + order[j]] - max);
            sum += weights[row * TOP_K + j];
        }
        for (int j = 0; j < TOP_K; j++) weights[row * TOP_K + j] /= sum;
    }

    /**
     * y[t] = expert e_t's MXFP4 rows · x (shared per token or one per slot) + bias[e_t]: random nibble bytes, E8M0 scales
     * 123..129 (2^-4..2^2), the last expert always routed (the stride through the stacked experts shows).
     */
    private Check mxfp4(int n, int experts, int rows, int cols, boolean perSlot, boolean withBias) {
        int nb = cols / 32, slots = n * TOP_K;
        byte[] blocks = new byte[experts * rows * nb * 16], scales = new byte[experts * rows * nb];
        random.nextBytes(blocks);
        for (int i = 0; i < scales.length; i++) scales[i] = (byte) (123 + random.nextInt(7));
        int[] expert = new int[slots];
        for (int t = 0; t < slots; t++) expert[t] = random.nextInt(experts);
        expert[slots - 1] = experts - 1;
        float[] x = randn(random, (perSlot ? slots : n) * cols), bias = withBias ? randn(random, experts * rows) : null;
        float[] y = poisoned(slots * rows);
        probe.launchOnHost("basalt_mxfp4_matmul", new int[] {ceil(rows, 4), slots}, new int[] {128}, y, blocks, scales, bias, x,
                perSlot ? 1 : 0, expert, n, TOP_K, rows, cols);
        double[] ref = new double[slots * rows];
        for (int t = 0; t < slots; t++) {
            int xr = (perSlot ? t : t / TOP_K) * cols;
            for (int r = 0; r < rows; r++) {
                int blk0 = (expert[t] * rows + r) * nb;
                double sum = 0;
                for (int b = 0; b < nb; b++) {
                    double s = 0;
                    for (int j = 0; j < 16; j++) {
                        int q = blocks[(blk0 + b) * 16 + j] & 0xff;
                        s += FP4[q & 15] * x[xr + b * 32 + 2 * j] + FP4[q >>> 4] * x[xr + b * 32 + 2 * j + 1];
                    }
                    sum += s * Math.scalb(1.0, (scales[blk0 + b] & 0xff) - 127);
                }
                ref[t * rows + r] = sum + (bias == null ? 0 : bias[expert[t] * rows + r]);
            }
        }
        return new Check("", relL2(y, ref), FP32, experts + " experts, " + rows + "x" + cols + ", " + slots + " slots");
    }

    private Check combine(int n, int dim) {
        float[] y = randn(random, n * TOP_K * dim), w = new float[n * TOP_K], out = poisoned(n * dim);
        for (int i = 0; i < w.length; i++) w[i] = (float) random.nextDouble();
        double[] ref = new double[n * dim];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < TOP_K; j++) for (int d = 0; d < dim; d++) ref[i * dim + d] += (double) w[i * TOP_K + j] * y[(i * TOP_K + j) * dim + d];
        }
        probe.launchOnHost("basalt_moe_combine", new int[] {n}, new int[] {256}, out, y, w, n, TOP_K, dim);
        return new Check("", relL2(out, ref), FP32, "");
    }

    /**
     * The bandwidth probe's checksum, so the read-bandwidth ceiling is known to read every byte it counts: block b's
     * value is the XOR of the 32-bit words of the 16-byte chunks b·256+t (+ 1024·256 …) below count/16.
     */
    private Check readProbe(int count) {
        byte[] x = new byte[count];
        random.nextBytes(x);
        int[] out = new int[1024];
        Arrays.fill(out, 0x7fc0dead);
        int[] want = new int[1024];
        java.nio.IntBuffer words = java.nio.ByteBuffer.wrap(x).order(java.nio.ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        long chunks = count / 16;
        for (long c = 0; c < chunks; c++) {
            int block = (int) (c % (1024 * 256) / 256);
            for (int w = 0; w < 4; w++) want[block] ^= words.get((int) (c * 4 + w));
        }
        probe.launchOnHost("basalt_read_probe", new int[] {1024}, new int[] {256}, out, x, (long) count);
        int wrong = 0;
        for (int b = 0; b < 1024; b++) if (out[b] != want[b]) wrong++;
        return new Check("", wrong, 0, wrong == 0 ? "exact over " + count + " bytes" : wrong + " of 1024 block checksums wrong");
    }
}
