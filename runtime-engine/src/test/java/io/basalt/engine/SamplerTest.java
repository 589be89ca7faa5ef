package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.SamplingParams;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float[] LOGITS = {1.0f, 3.0f, 0.5f, 2.0f, -1.0f};

    @Test
    void greedyTakesTheArgmax() {
        assertEquals(1, new Sampler(SamplingParams.greedy(1)).sample(LOGITS));
    }

    @Test
    void sameSeedSameDrawsOtherSeedOtherDraws() {
        int[] a = draws(p(1f, 1f, 42, 1), 64);
        int[] b = draws(p(1f, 1f, 42, 1), 64);
        int[] c = draws(p(1f, 1f, 43, 1), 64);
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        int n = 20000;
        int[] counts = new int[LOGITS.length];
        for (int id : draws(p(1f, 1f, 7, 1), n)) counts[id]++;
        double z = 0;
        for (float l : LOGITS) z += Math.exp(l);
        for (int i = 0; i < LOGITS.length; i++) {
            double p = Math.exp(LOGITS[i]) / z;
            double sd = Math.sqrt(p * (1 - p) / n);
            assertEquals(p, counts[i] / (double) n, 5 * sd + 1e-3, "token " + i);
        }
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        // softmax(LOGITS) ≈ [0.086, 0.636, 0.052, 0.234, 0.012]: top-p 0.8 keeps tokens 1 and 3 only.
        int[] counts = new int[LOGITS.length];
        for (int id : draws(p(1f, 0.8f, 3, 1), 5000)) counts[id]++;
        assertEquals(0, counts[0] + counts[2] + counts[4]);
        assertTrue(counts[1] > counts[3] && counts[3] > 0, java.util.Arrays.toString(counts));
    }

    @Test
    void lowTemperatureConcentratesOnTheArgmax() {
        int[] counts = new int[LOGITS.length];
        for (int id : draws(p(0.05f, 1f, 5, 1), 2000)) counts[id]++;
        assertEquals(2000, counts[1]);
    }

    @Test
    void invalidParamsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> p(-0.1f, 1f, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> p(Float.NaN, 1f, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> p(1f, 0f, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> p(1f, 1f, 0, -1));
    }

    private static SamplingParams p(float temperature, float topP, long seed, int maxTokens) {
        return SamplingParams.builder().temperature(temperature).topP(topP).seed(seed).maxTokens(maxTokens).build();
    }

    private static int[] draws(SamplingParams params, int n) {
        Sampler s = new Sampler(params);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = s.sample(LOGITS);
        return out;
    }
}
