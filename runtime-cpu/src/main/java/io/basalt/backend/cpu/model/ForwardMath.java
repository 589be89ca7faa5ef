package io.basalt.backend.cpu.model;

import io.basalt.backend.FlatBatch;
import io.basalt.backend.cpu.kernels.Attention;
import io.basalt.backend.cpu.kernels.Parallel;
import io.basalt.backend.cpu.kernels.PrefillAttention;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The element-wise and attention math the architectures share, in float32. */
public final class ForwardMath {
    private ForwardMath() {}

    /** One embedding row per token; an id outside [0, vocabSize) is rejected before any work. */
    public static float[][] embed(WeightMatrix table, int[] tokens) {
        if (tokens.length == 0) throw new IllegalArgumentException("forward needs at least one token");
        int vocabSize = table.rows();
        float[][] x = new float[tokens.length][table.cols()];
        for (int t = 0; t < tokens.length; t++) {
            if (tokens[t] < 0 || tokens[t] >= vocabSize) {
                throw new IllegalArgumentException("token id " + tokens[t] + " is outside the vocabulary [0, " + vocabSize + ")");
            }
            table.row(tokens[t], x[t]);
        }
        return x;
    }

    /** A final normalisation applied to one residual row. */
    public interface Norm { void apply(float[] out, float[] x); }

    /**
     * Final norm and output projection for the rows that need logits ({@link FlatBatch#logitRows}), one matrix
     * product over all of them, so the head is read once; returned per sequence, in row order.
     */
    public static java.util.List<float[][]> logits(FlatBatch batch, float[][] x, Norm norm, WeightMatrix head) {
        int[] rows = batch.logitRows();
        float[][] normed = new float[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            normed[k] = new float[x[rows[k]].length];
            norm.apply(normed[k], x[rows[k]]);
        }
        float[][] all = new float[rows.length][head.rows()];
        if (rows.length > 0) head.matmul(normed, all);
        java.util.List<float[][]> out = new java.util.ArrayList<>(batch.numSequences());
        int k = 0;
        for (int s = 0; s < batch.numSequences(); s++) {
            int from = k;
            while (k < rows.length && batch.sequence(rows[k]) == s) k++;
            out.add(java.util.Arrays.copyOfRange(all, from, k));
        }
        return out;
    }

    /** out = x / sqrt(mean(x²) + eps) · weight. */
    public static void rmsNorm(float[] out, float[] x, float[] weight, float eps) {
        int n = weight.length;
        float ss = 0f;
        for (int i = 0; i < n; i++) ss += x[i] * x[i];
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[i] = weight[i] * (inv * x[i]);
    }

    /** out = (x − mean) / sqrt(var + eps) · weight + bias, population variance. */
    public static void layerNorm(float[] out, float[] x, float[] weight, float[] bias, float eps) {
        int n = weight.length;
        float mean = 0f;
        for (int i = 0; i < n; i++) mean += x[i];
        mean /= n;
        float var = 0f;
        for (int i = 0; i < n; i++) {
            float d = x[i] - mean;
            var += d * d;
        }
        var /= n;
        float rstd = (float) (1.0 / Math.sqrt(var + eps));
        for (int i = 0; i < n; i++) out[i] = (x[i] - mean) * rstd * weight[i] + bias[i];
    }

    /**
     * GPT-2's gelu_new (tanh approximation), in place over [0, n). 0.5·(1 + tanh(u)) is written as
     * the logistic 1 / (1 + e^(−2u)), which needs one exp instead of Math.tanh (about 3× slower
     * here, and a fifth of a batched GPT-2 step); the two agree to float rounding.
     */
    public static void geluTanh(float[] x, int n) {
        final float s = (float) Math.sqrt(2.0 / Math.PI);
        int i = 0;
        // The vector exp is a JIT intrinsic (SVML, about 1 ulp): ~10× the scalar Math.exp loop.
        for (; i + ACT.length() <= n; i += ACT.length()) {
            FloatVector v = FloatVector.fromArray(ACT, x, i);
            FloatVector u = v.mul(v).mul(v).mul(0.044715f).add(v).mul(-2f * s);
            v.div(u.lanewise(VectorOperators.EXP).add(1f)).intoArray(x, i);
        }
        for (; i < n; i++) {
            float v = x[i];
            float u = s * (v + 0.044715f * v * v * v);
            x[i] = v / (1f + (float) Math.exp(-2f * u));
        }
    }

    /** gate[i] = silu(gate[i]) · up[i] for i < n (SwiGLU), vectorised like {@link #geluTanh}. */
    public static void siluMul(float[] gate, float[] up, int n) {
        int i = 0;
        for (; i + ACT.length() <= n; i += ACT.length()) {
            FloatVector g = FloatVector.fromArray(ACT, gate, i);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(ACT, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) gate[i] = silu(gate[i]) * up[i];
    }

    private static final VectorSpecies<Float> ACT = FloatVector.SPECIES_256;

    public static float silu(float v) { return v / (1f + (float) Math.exp(-v)); }

    public static float sigmoid(float v) { return 1f / (1f + (float) Math.exp(-v)); }

    public static void add(float[] acc, float[] x, int n) {
        for (int i = 0; i < n; i++) acc[i] += x[i];
    }

    /** In-place softmax over x[0..n). */
    public static void softmax(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[i]);
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < n; i++) x[i] /= sum;
    }

    /**
     * Causal multi-head attention of every row of a batch over its own sequence's keys/values of one
     * layer ({@link Attention}: one pass, online softmax). Work is split over (KV head group × row),
     * so a single decode row with many heads and a long prefill both use every core; rows are taken
     * in folded order (first, last, second, second-to-last, …) so contiguous shares of a causal
     * prefill cost about the same.
     *
     * @param q        per row, the query, numHeads × headDim (already rotated)
     * @param window   sliding window in positions (keys with position ≤ pos − window are masked), or 0
     * @param sinks    per-head learned sink logits (gpt-oss), or null: the sink joins the softmax's
     *                 denominator but carries no value, so the weights sum to less than one
     * @param out      per row, receives numHeads × headDim
     */
    public static void attentionRows(FlatBatch batch, KvStore kv, int layer, float[][] q, int numHeads, int numKvHeads,
                                     int headDim, float scale, int window, float[] sinks, float[][] out) {
        int n = batch.numRows();
        int group = numHeads / numKvHeads;
        int kvDim = numKvHeads * headDim;
        float[] keys = kv.keys(layer);
        float[] values = kv.values(layer);
        // Each sequence's position → array-index map, resolved once here for all its rows and heads
        // (a block-table lookup and a division per position).
        int numSeqs = batch.numSequences();
        int[][] offsets = new int[numSeqs][];
        int[] base = new int[numSeqs];
        for (int s = 0; s < numSeqs; s++) {
            int b = firstAttended(batch.startPosition(s), window);
            int end = batch.endPosition(s);
            int[] table = new int[end - b];
            for (int p = b; p < end; p++) table[p - b] = batch.slot(s, p) * kvDim;
            offsets[s] = table;
            base[s] = b;
        }
        // Prefill chunks of plain causal attention go PrefillAttention.ROWS rows at a time through PrefillAttention
        // (rows in vector lanes, no reductions); the rest of their rows, decode rows, and every row of a
        // model with sinks or sliding windows go one at a time through Attention.
        boolean blocks = sinks == null && window == 0;
        int[] blockRow = new int[n / PrefillAttention.ROWS];
        int[] single = new int[n];
        int numBlocks = 0, numSingle = 0;
        for (int s = 0; s < numSeqs; s++) {
            int r = batch.firstRow(s), len = batch.numTokens(s), inBlocks = blocks ? len - len % PrefillAttention.ROWS : 0;
            for (int i = 0; i < inBlocks; i += PrefillAttention.ROWS) blockRow[numBlocks++] = r + i;
            for (int i = inBlocks; i < len; i++) single[numSingle++] = r + i;
        }
        if (numBlocks > 0) {
            attentionBlocks(batch, keys, values, q, blockRow, numBlocks, offsets, base, numHeads, group, headDim, scale, out);
        }
        if (numSingle == 0) return;
        int m = numSingle;
        long positions = 0;
        for (int i = 0; i < m; i++) {
            int pos = batch.position(single[i]);
            positions += pos - firstAttended(pos, window) + 1;
        }
        int items = m * numKvHeads;
        // Per (row, group): a q·k and a value FMA per position, head and dimension; on the matmuls' scale
        // (bytes streamed), so Parallel's cutoff falls at a few microseconds of work here too.
        long costPerItem = Math.max(1, 2 * positions * group * headDim / m);
        Parallel.forRange(items, costPerItem, (start, stop) -> {
            Attention.Scratch scratch = Attention.scratch();
            for (int it = start; it < stop; it++) {
                int g = it / m;
                int k = it - g * m;
                int r = single[(k & 1) == 0 ? k >> 1 : m - 1 - (k >> 1)];
                int s = batch.sequence(r);
                int pos = batch.position(r);
                int qOff = g * group * headDim;
                Attention.attend(q[r], qOff, keys, values, offsets[s], base[s], g * headDim,
                        firstAttended(pos, window), pos, group, headDim, scale, sinks, g * group, out[r], qOff, scratch);
            }
        });
    }

    /** Attention of whole eight-row blocks of prefill rows (no sinks, no window), one (block, query head) per item. */
    private static void attentionBlocks(FlatBatch batch, float[] keys, float[] values, float[][] q, int[] blockRow, int numBlocks,
                                        int[][] offsets, int[] base, int numHeads, int group, int headDim, float scale,
                                        float[][] out) {
        long positions = 0;
        for (int b = 0; b < numBlocks; b++) positions += batch.position(blockRow[b]) + PrefillAttention.ROWS;
        long costPerItem = Math.max(1, 2 * positions * PrefillAttention.ROWS * headDim / numBlocks);
        Parallel.forRange(numBlocks * numHeads, costPerItem, (start, stop) -> {
            PrefillAttention.Scratch scratch = PrefillAttention.scratch();
            for (int it = start; it < stop; it++) {
                int h = it / numBlocks, k = it - h * numBlocks;
                int r0 = blockRow[(k & 1) == 0 ? k >> 1 : numBlocks - 1 - (k >> 1)]; // folded: shares cost about the same
                int s = batch.sequence(r0);
                PrefillAttention.attend(q, r0, h * headDim, keys, values, offsets[s], base[s],
                        (h / group) * headDim, batch.position(r0), headDim, scale, out, scratch);
            }
        });
    }

    /** The first position a query at pos attends to. */
    private static int firstAttended(int pos, int window) {
        return window > 0 ? Math.max(0, pos - window + 1) : 0;
    }

    /** Stores one row's key and value (each kvDim floats at kOff/vOff) at its KV slot. */
    public static void storeKv(KvStore kv, int layer, int slot, float[] k, int kOff, float[] v, int vOff, int kvDim) {
        int at = slot * kvDim;
        System.arraycopy(k, kOff, kv.keys(layer), at, kvDim);
        System.arraycopy(v, vOff, kv.values(layer), at, kvDim);
    }
}
