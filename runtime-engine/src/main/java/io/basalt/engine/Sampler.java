package io.basalt.engine;

import io.basalt.api.SamplingParams;
import java.util.Arrays;

/**
 * Picks the next token from a logits row: argmax when temperature is 0, otherwise temperature
 * scaling, softmax, optional nucleus (top-p) truncation and a draw from a seeded generator. The
 * generator and the draw follow llama2.c's run.c (xorshift*, "coin" in [0, 1)), so a seed gives
 * the same tokens on every run and machine.
 */
public final class Sampler {
    private final SamplingParams params;
    private long state;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.state = params.seed() == 0 ? 0x2545F4914F6CDD1DL : params.seed(); // xorshift must not start at 0
    }

    public int sample(float[] logits) {
        if (params.isGreedy()) return argmax(logits);
        float[] probs = new float[logits.length];
        for (int i = 0; i < probs.length; i++) probs[i] = logits[i] / params.temperature();
        softmax(probs);
        float coin = nextFloat();
        return params.topP() < 1f ? sampleTopP(probs, params.topP(), coin) : sampleMultinomial(probs, coin);
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static void softmax(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        float sum = 0f;
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.length; i++) x[i] /= sum;
    }

    private static int sampleMultinomial(float[] probs, float coin) {
        float cdf = 0f;
        for (int i = 0; i < probs.length; i++) {
            cdf += probs[i];
            if (coin < cdf) return i;
        }
        return probs.length - 1; // rounding
    }

    /** Samples from the smallest set of tokens whose cumulative probability exceeds topP. */
    private static int sampleTopP(float[] probs, float topP, float coin) {
        int n = probs.length;
        // Tokens below this cannot be in the nucleus; skipping them keeps the sort small.
        float cutoff = (1f - topP) / (n - 1);
        long[] packed = new long[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (probs[i] >= cutoff) packed[m++] = ((long) Float.floatToIntBits(probs[i]) << 32) | i;
        }
        // Non-negative floats order like their bits: sort ascending, then read from the end.
        Arrays.sort(packed, 0, m);
        float cumulative = 0f;
        int last = 0;
        for (int j = 0; j < m; j++) {
            cumulative += Float.intBitsToFloat((int) (packed[m - 1 - j] >>> 32));
            if (cumulative > topP) {
                last = j;
                break;
            }
            last = j;
        }
        float r = coin * cumulative;
        float cdf = 0f;
        for (int j = 0; j <= last; j++) {
            long p = packed[m - 1 - j];
            cdf += Float.intBitsToFloat((int) (p >>> 32));
            if (r < cdf) return (int) p;
        }
        return (int) packed[m - 1 - last];
    }

    private float nextFloat() {
        state ^= state >>> 12;
        state ^= state << 25;
        state ^= state >>> 27;
        int u32 = (int) ((state * 0x2545F4914F6CDD1DL) >>> 32);
        return (u32 >>> 8) / 16777216.0f;
    }
}
