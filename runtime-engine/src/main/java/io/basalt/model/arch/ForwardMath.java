package io.basalt.model.arch;

import io.basalt.backend.cpu.kernels.VectorKernels;
import io.basalt.backend.cpu.kernels.WeightMatrix;

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

    /** Final norm and output projection for every row (ALL) or only the last (LAST). */
    public static float[][] logits(float[][] x, Model.Logits which, Norm norm, WeightMatrix head) {
        int first = which == Model.Logits.ALL ? 0 : x.length - 1;
        float[][] normed = new float[x.length - first][x[0].length];
        for (int t = first; t < x.length; t++) norm.apply(normed[t - first], x[t]);
        float[][] out = new float[normed.length][head.rows()];
        head.matmul(normed, out);
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

    /** GPT-2's gelu_new (tanh approximation), in place over [0, n). */
    public static void geluTanh(float[] x, int n) {
        final float s = (float) Math.sqrt(2.0 / Math.PI);
        for (int i = 0; i < n; i++) {
            float v = x[i];
            x[i] = 0.5f * v * (1f + (float) Math.tanh(s * (v + 0.044715f * v * v * v)));
        }
    }

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
     * Causal multi-head attention of one query position over the cached keys/values of one layer.
     *
     * @param q        the query, numHeads × headDim (already rotated)
     * @param pos      the query's position; keys at positions [first, pos] are attended
     * @param window   sliding window in positions (keys with position ≤ pos − window are masked), or 0
     * @param sinks    per-head learned sink logits (gpt-oss), or null: the sink joins the softmax's
     *                 denominator but carries no value, so the weights sum to less than one
     * @param out      receives numHeads × headDim
     * @param scores   scratch of at least pos + 1 floats
     */
    public static void attention(float[] q, float[] keys, float[] values, int kvDim, int pos, int numHeads,
                                 int numKvHeads, int headDim, float scale, int window, float[] sinks,
                                 float[] out, float[] scores) {
        int first = window > 0 ? Math.max(0, pos - window + 1) : 0;
        int group = numHeads / numKvHeads;
        for (int h = 0; h < numHeads; h++) {
            int kvOff = (h / group) * headDim;
            int qOff = h * headDim;
            float max = sinks != null ? sinks[h] : Float.NEGATIVE_INFINITY;
            for (int t = first; t <= pos; t++) {
                float s = VectorKernels.dot(q, qOff, keys, t * kvDim + kvOff, headDim) * scale;
                scores[t] = s;
                if (s > max) max = s;
            }
            float sum = sinks != null ? (float) Math.exp(sinks[h] - max) : 0f;
            for (int t = first; t <= pos; t++) {
                scores[t] = (float) Math.exp(scores[t] - max);
                sum += scores[t];
            }
            float inv = 1f / sum;
            java.util.Arrays.fill(out, qOff, qOff + headDim, 0f);
            for (int t = first; t <= pos; t++) {
                float w = scores[t] * inv;
                int vOff = t * kvDim + kvOff;
                for (int d = 0; d < headDim; d++) out[qOff + d] += w * values[vOff + d];
            }
        }
    }
}
