package io.basalt.engine.sampling;

import java.util.Arrays;

/**
 * The random half of sampling on already-processed logits: temperature → top-k → top-p → min-p →
 * one draw with a given coin. Without top-k and min-p the arithmetic is exactly that of
 * {@link io.basalt.engine.Sampler} (float softmax over the whole vocabulary, llama2.c's nucleus
 * cut-off and sort, the same cdf walks), so temperature/top-p requests keep their tokens.
 */
final class Distribution {
    private Distribution() {}

    /** Draws a token from {@code logits} (overwritten with probabilities when top-k is off). */
    static int sample(float[] logits, float temperature, int topK, float topP, float minP, float coin) {
        int n = logits.length;
        if (n == 1) return 0;
        if (topK > 0 && topK < n) return sampleTopK(logits, temperature, topK, topP, minP, coin);
        // In place, and with a float sum, to stay bit-identical to the legacy sampler.
        for (int i = 0; i < n; i++) logits[i] = logits[i] / temperature;
        softmaxFloat(logits);
        if (topP < 1f) {
            Candidates c = nucleusCandidates(logits, topP);
            return c == null ? argmax(logits) : c.draw(topP, minP, coin);
        }
        return minP > 0f ? sampleMinP(logits, minP, coin) : sampleMultinomial(logits, coin);
    }

    /** Lowest index among the maxima, so ties are broken the same way everywhere. */
    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static void softmaxFloat(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        float sum = 0f;
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.length; i++) x[i] /= sum;
    }

    /** Top-k first, so everything after it (softmax, top-p, min-p) only sees k tokens. */
    private static int sampleTopK(float[] logits, float temperature, int topK, float topP, float minP, float coin) {
        // Dividing by a positive temperature keeps the order, so select on the unscaled logits.
        long[] top = TopSelect.largest(logits, topK);
        int k = top.length;
        int[] ids = new int[k];
        float[] probs = new float[k];
        float max = TopSelect.value(top[0]) / temperature;
        double sum = 0; // float64: k can be large, and only k exps are summed
        for (int j = 0; j < k; j++) {
            ids[j] = TopSelect.id(top[j]);
            probs[j] = (float) Math.exp(TopSelect.value(top[j]) / temperature - max);
            sum += probs[j];
        }
        for (int j = 0; j < k; j++) probs[j] = (float) (probs[j] / sum);
        // Already sorted by descending probability: exp is monotonic and the heap sorted by logit.
        return new Candidates(ids, probs, k).draw(topP, minP, coin);
    }

    /**
     * llama2.c's nucleus pre-filter: a token below (1 - topP) / (n - 1) can never be in the nucleus,
     * so only the tokens above it are sorted (usually a handful out of the whole vocabulary).
     */
    private static Candidates nucleusCandidates(float[] probs, float topP) {
        int n = probs.length;
        float cutoff = (1f - topP) / (n - 1);
        int m = 0;
        for (float p : probs) if (p >= cutoff) m++;
        if (m == 0) return null; // only with NaN logits
        long[] packed = new long[m];
        m = 0;
        for (int i = 0; i < n; i++) {
            if (probs[i] >= cutoff) packed[m++] = ((long) Float.floatToIntBits(probs[i]) << 32) | i;
        }
        // Non-negative floats order like their bits: sort ascending, then read from the end.
        Arrays.sort(packed);
        int[] ids = new int[m];
        float[] sorted = new float[m];
        for (int j = 0; j < m; j++) {
            long p = packed[m - 1 - j];
            ids[j] = (int) p;
            sorted[j] = Float.intBitsToFloat((int) (p >>> 32));
        }
        return new Candidates(ids, sorted, m);
    }

    /** min-p alone over the whole vocabulary: a threshold pass, no sort; draws in index order. */
    private static int sampleMinP(float[] probs, float minP, float coin) {
        float threshold = minP * probs[argmax(probs)];
        float kept = 0f;
        for (float p : probs) if (p >= threshold && p > 0f) kept += p;
        float r = coin * kept;
        float cdf = 0f;
        int lastKept = -1;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] >= threshold && probs[i] > 0f) {
                cdf += probs[i];
                lastKept = i;
                if (r < cdf) return i;
            }
        }
        return lastKept >= 0 ? lastKept : argmax(probs);
    }

    private static int sampleMultinomial(float[] probs, float coin) {
        float cdf = 0f;
        int lastPositive = -1;
        for (int i = 0; i < probs.length; i++) {
            cdf += probs[i];
            if (coin < cdf) return i;
            if (probs[i] > 0f) lastPositive = i;
        }
        // Float rounding left coin >= cdf. The legacy sampler returned the last index even when its
        // probability is 0 (a banned or underflowed token); take the last possible token instead.
        return lastPositive >= 0 ? lastPositive : argmax(probs);
    }

    /** Tokens sorted by descending probability; top-p and min-p truncate this list from the end. */
    private record Candidates(int[] ids, float[] probs, int size) {
        int draw(float topP, float minP, float coin) {
            int count = size;
            if (topP < 1f) {
                // Smallest prefix whose mass exceeds topP (llama2.c: the crossing token is kept).
                float cumulative = 0f;
                for (int j = 0; j < size; j++) {
                    cumulative += probs[j];
                    if (cumulative > topP) {
                        count = j + 1;
                        break;
                    }
                }
            }
            if (minP > 0f) {
                // Renormalising after top-k/top-p does not change p / p_max, so compare raw values.
                float threshold = minP * probs[0];
                int j = 1;
                while (j < count && probs[j] >= threshold) j++;
                count = j;
            }
            float kept = 0f;
            for (int j = 0; j < count; j++) kept += probs[j];
            float r = coin * kept;
            float cdf = 0f;
            int lastPositive = 0;
            for (int j = 0; j < count; j++) {
                cdf += probs[j];
                if (r < cdf) return ids[j];
                if (probs[j] > 0f) lastPositive = j;
            }
            return ids[lastPositive];
        }
    }
}
