package io.basalt.engine.sampling;

import java.util.ArrayList;
import java.util.List;

/**
 * log_softmax of the raw logits, without materialising it: one max pass, one float64 sum of
 * exp(x - max) (the max-subtract keeps exp in range; float64 keeps 200k small terms from being
 * rounded away), then logprob(i) = x[i] - logZ only for the tokens that are reported.
 */
final class RawLogprobs {
    private RawLogprobs() {}

    /** log Σ exp(x[i]), computed stably. */
    static double logSumExp(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        if (max == Float.NEGATIVE_INFINITY) return max;
        double sum = 0;
        for (float v : x) sum += Math.exp((double) v - max);
        return max + Math.log(sum);
    }

    static float logprob(float rawLogit, double logZ) {
        return (float) (rawLogit - logZ);
    }

    /** The {@code n} most likely tokens, best first (ties: lower id first). */
    static List<TokenLogprob> top(float[] raw, int n, double logZ) {
        long[] top = TopSelect.largest(raw, n);
        List<TokenLogprob> out = new ArrayList<>(top.length);
        for (long p : top) out.add(new TokenLogprob(TopSelect.id(p), logprob(TopSelect.value(p), logZ)));
        return out;
    }
}
