package io.basalt.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.SamplingParams;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SequenceSamplerTest {
    private static final int[] NO_PROMPT = {};
    private static final int[] NO_EOS = {};

    @Test
    void greedyIsTheArgmaxWithTheLowestIdOnTies() {
        SequenceSampler s = new SequenceSampler(SamplingParams.greedy(8), 0, NO_PROMPT, NO_EOS);
        assertEquals(1, s.sample(new float[] {1f, 3f, 0.5f, 2f}, 0).tokenId());
        assertEquals(1, s.sample(new float[] {1f, 3f, 3f, 3f}, 1).tokenId());
        assertEquals(0, s.sample(new float[] {-2f, -2f, -5f}, 2).tokenId());
    }

    @Test
    void sameSeedSameDrawsOtherSeedOrChoiceOtherDraws() {
        SamplingParams p = SamplingParams.builder().temperature(1f).seed(42).maxTokens(100).build();
        int[] a = draws(p, 0, 200);
        assertArrayEquals(a, draws(p, 0, 200));
        assertFalse(Arrays.equals(a, draws(p.toBuilder().seed(43).build(), 0, 200)));
        int[] choice1 = draws(p, 1, 200);
        assertFalse(Arrays.equals(a, choice1));
        assertArrayEquals(choice1, draws(p, 1, 200)); // each choice is reproducible on its own
        assertFalse(Arrays.equals(choice1, draws(p, 2, 200)));
    }

    @Test
    void topKOfOneIsGreedy() {
        Random r = new Random(3);
        SamplingParams p = SamplingParams.builder().temperature(1.5f).topK(1).seed(9).maxTokens(100).build();
        SequenceSampler s = new SequenceSampler(p, 0, NO_PROMPT, NO_EOS);
        for (int i = 0; i < 200; i++) {
            float[] logits = randomLogits(r, 500, 2f);
            assertEquals(argmax(logits), s.sample(logits.clone(), i).tokenId());
        }
    }

    @Test
    void topKNeverLeavesTheKLargestAndFollowsTheirSoftmax() {
        float[] logits = randomLogits(new Random(11), 50, 1f); // flat-ish: outside tokens would show up
        int k = 5;
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Float.compare(logits[y], logits[x]));
        int n = 20000;
        int[] counts = new int[logits.length];
        SequenceSampler s = new SequenceSampler(
                SamplingParams.builder().temperature(1f).topK(k).seed(5).maxTokens(10).build(), 0, NO_PROMPT, NO_EOS);
        for (int i = 0; i < n; i++) counts[s.sample(logits.clone(), 0).tokenId()]++;
        double z = 0;
        for (int j = 0; j < k; j++) z += Math.exp(logits[order[j]]);
        for (int j = 0; j < k; j++) {
            double p = Math.exp(logits[order[j]]) / z;
            assertEquals(p, counts[order[j]] / (double) n, 5 * Math.sqrt(p * (1 - p) / n) + 1e-3, "rank " + j);
        }
        for (int j = k; j < order.length; j++) assertEquals(0, counts[order[j]], "rank " + j + " was drawn");
    }

    @Test
    void topKOnALargeVocabularyWithTopPAndMinP() {
        Random r = new Random(1);
        float[] logits = randomLogits(r, 201_088, 3f);
        long[] top = TopSelect.largest(logits, 40);
        java.util.Set<Integer> allowed = new java.util.HashSet<>();
        for (long t : top) allowed.add(TopSelect.id(t));
        SequenceSampler s = new SequenceSampler(SamplingParams.builder().temperature(0.8f).topK(40).topP(0.9f)
                .minP(0.05f).seed(77).maxTokens(10).build(), 0, NO_PROMPT, NO_EOS);
        for (int i = 0; i < 50; i++) assertTrue(allowed.contains(s.sample(logits.clone(), 0).tokenId()));
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTopProbability() {
        // probs 0.5, 0.3, 0.15, 0.05: min_p 0.2 → threshold 0.1 drops token 3 only.
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        for (boolean viaTopK : new boolean[] {false, true}) {
            SamplingParams.Builder b = SamplingParams.builder().temperature(1f).minP(0.2f).seed(13).maxTokens(10);
            if (viaTopK) b.topK(3);
            int[] counts = new int[4];
            SequenceSampler s = new SequenceSampler(b.build(), 0, NO_PROMPT, NO_EOS);
            for (int i = 0; i < 10000; i++) counts[s.sample(logits.clone(), 0).tokenId()]++;
            assertEquals(0, counts[3], Arrays.toString(counts));
            assertEquals(0.5 / 0.95, counts[0] / 10000.0, 0.03, Arrays.toString(counts));
            assertEquals(0.15 / 0.95, counts[2] / 10000.0, 0.03, Arrays.toString(counts));
        }
    }

    @Test
    void topPKeepsOnlyTheNucleusAndMinPCutsItFurther() {
        // probs 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps {0, 1}; adding min_p 0.7 (threshold 0.35) keeps {0}.
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        int[] counts = new int[4];
        SequenceSampler s = new SequenceSampler(
                SamplingParams.builder().temperature(1f).topP(0.7f).seed(21).maxTokens(10).build(), 0, NO_PROMPT, NO_EOS);
        for (int i = 0; i < 10000; i++) counts[s.sample(logits.clone(), 0).tokenId()]++;
        assertEquals(0, counts[2] + counts[3], Arrays.toString(counts));
        assertEquals(0.5 / 0.8, counts[0] / 10000.0, 0.03, Arrays.toString(counts));
        SequenceSampler cut = new SequenceSampler(SamplingParams.builder().temperature(1f).topP(0.7f).minP(0.7f).seed(21)
                .maxTokens(10).build(), 0, NO_PROMPT, NO_EOS);
        for (int i = 0; i < 2000; i++) assertEquals(0, cut.sample(logits.clone(), 0).tokenId());
    }

    @Test
    void logitBiasForcesAndBans() {
        float[] logits = {5f, 1f, 0f, -3f};
        SamplingParams force = SamplingParams.builder().temperature(1f).logitBias(Map.of(3, 100f)).seed(1).maxTokens(5).build();
        SamplingParams ban = SamplingParams.builder().temperature(1f).logitBias(Map.of(0, -100f)).seed(1).maxTokens(5).build();
        SequenceSampler f = new SequenceSampler(force, 0, NO_PROMPT, NO_EOS);
        SequenceSampler b = new SequenceSampler(ban, 0, NO_PROMPT, NO_EOS);
        for (int i = 0; i < 1000; i++) {
            assertEquals(3, f.sample(logits.clone(), i).tokenId());
            assertNotEquals(0, b.sample(logits.clone(), i).tokenId());
        }
        SequenceSampler greedy = new SequenceSampler(ban.toBuilder().temperature(0f).build(), 0, NO_PROMPT, NO_EOS);
        assertEquals(1, greedy.sample(logits.clone(), 0).tokenId());
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeSeenLogits() {
        SamplingParams p = SamplingParams.builder().temperature(0f).repetitionPenalty(2f).maxTokens(10).build();
        SequenceSampler s = new SequenceSampler(p, 0, new int[] {0, 1, 1}, NO_EOS);
        assertEquals(2, s.sample(new float[] {0f, 0f, 9f, 0f, 0f}, 0).tokenId()); // token 2 becomes "seen"
        float[] logits = {3f, -1.5f, 2.5f, 1f, -4f};
        s.process(logits, 1);
        assertArrayEquals(new float[] {1.5f, -3f, 1.25f, 1f, -4f}, logits);
        // > 1 makes a seen token lose against an unseen one it used to beat.
        assertEquals(3, s.sample(new float[] {1.5f, 0f, 0f, 1f, 0f}, 1).tokenId());
    }

    @Test
    void presenceAndFrequencyPenaltiesCountGeneratedTokensOnly() {
        float presence = 0.5f, frequency = 0.25f; // exactly representable, so the expected values are exact
        SamplingParams p = SamplingParams.builder().temperature(0f).presencePenalty(presence).frequencyPenalty(frequency)
                .maxTokens(10).build();
        SequenceSampler s = new SequenceSampler(p, 0, new int[] {3, 3, 3}, NO_EOS); // the prompt is not counted
        for (int t : new int[] {1, 1, 1, 2}) {
            float[] oneHot = new float[4];
            oneHot[t] = 100f;
            assertEquals(t, s.sample(oneHot, 0).tokenId());
        }
        float[] logits = {0.75f, 1.5f, -0.25f, 2f};
        s.process(logits, 4);
        // token 1: 1.5 - 0.25×3 - 0.5; token 2: -0.25 - 0.25×1 - 0.5; tokens 0 and 3 never generated.
        assertArrayEquals(new float[] {0.75f, 0.25f, -1f, 2f}, logits);
        // Negative penalties reward repetition instead.
        SequenceSampler reward = new SequenceSampler(p.toBuilder().presencePenalty(-1f).frequencyPenalty(0f).build(), 0,
                NO_PROMPT, NO_EOS);
        assertEquals(1, reward.sample(new float[] {0f, 5f, 0f}, 0).tokenId());
        assertEquals(1, reward.sample(new float[] {0.9f, 0f, 0f}, 1).tokenId());
    }

    @Test
    void minTokensSuppressesEosAndStopTokensUntilReached() {
        int eos = 3, stop = 4;
        SamplingParams p = SamplingParams.builder().temperature(1f).minTokens(2).stopTokenIds(stop)
                .logitBias(Map.of(eos, 100f)).seed(8).maxTokens(10).build();
        SequenceSampler s = new SequenceSampler(p, 0, NO_PROMPT, new int[] {eos});
        float[] logits = {0f, 0f, 0f, 50f, 50f};
        float[] processed = logits.clone();
        s.process(processed, 1);
        assertEquals(Float.NEGATIVE_INFINITY, processed[eos]);
        assertEquals(Float.NEGATIVE_INFINITY, processed[stop]);
        for (int i = 0; i < 500; i++) {
            int t = s.sample(logits.clone(), i % 2).tokenId();
            assertTrue(t != eos && t != stop, "sampled " + t + " before min_tokens");
        }
        assertEquals(eos, s.sample(logits.clone(), 2).tokenId()); // +100 bias wins once allowed
        assertFalse(s.isStopToken(eos, 1));
        assertFalse(s.isStopToken(stop, 1));
        assertTrue(s.isStopToken(eos, 2));
        assertTrue(s.isStopToken(stop, 2));
        assertFalse(s.isStopToken(0, 5));
    }

    @Test
    void ignoreEosKeepsGoingPastEosButNotPastStopTokenIds() {
        SamplingParams p = SamplingParams.builder().temperature(0f).ignoreEos(true).stopTokenIds(7).maxTokens(10).build();
        SequenceSampler s = new SequenceSampler(p, 0, NO_PROMPT, new int[] {2, 5});
        assertFalse(s.isStopToken(2, 3));
        assertFalse(s.isStopToken(5, 3));
        assertTrue(s.isStopToken(7, 3));
        SequenceSampler normal = new SequenceSampler(p.toBuilder().ignoreEos(false).build(), 0, NO_PROMPT, new int[] {2, 5});
        assertTrue(normal.isStopToken(2, 0));
        assertTrue(normal.isStopToken(5, 0));
    }

    static float[] randomLogits(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    private static float[] logitsOf(double... probs) {
        float[] v = new float[probs.length];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.log(probs[i]);
        return v;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static int[] draws(SamplingParams p, int choice, int n) {
        SequenceSampler s = new SequenceSampler(p, choice, NO_PROMPT, NO_EOS);
        float[] logits = randomLogits(new Random(99), 64, 1f);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = s.sample(logits.clone(), i).tokenId();
        return out;
    }
}
