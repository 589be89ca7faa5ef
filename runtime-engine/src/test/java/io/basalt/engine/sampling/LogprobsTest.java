package io.basalt.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.SamplingParams;
import io.basalt.testing.ReferenceMath;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LogprobsTest {
    @Test
    void chosenAndTopLogprobsMatchAFloat64LogSoftmaxOfTheRawLogits() {
        Random r = new Random(4);
        int n = 5;
        SamplingParams p = SamplingParams.builder().temperature(0.7f).topP(0.9f).repetitionPenalty(1.3f)
                .logprobs(true).topLogprobs(n).seed(3).maxTokens(100).build();
        SequenceSampler s = new SequenceSampler(p, 0, new int[] {1, 2, 3}, new int[0]);
        for (int step = 0; step < 50; step++) {
            float[] logits = SequenceSamplerTest.randomLogits(r, 32_000, 3f);
            double[] ref = ReferenceMath.logSoftmax(logits);
            Sample sample = s.sample(logits.clone(), step);
            assertEquals(ref[sample.tokenId()], sample.logprob(), 1e-5);
            List<TokenLogprob> top = sample.topLogprobs();
            assertEquals(n, top.size());
            double[] sorted = ref.clone();
            java.util.Arrays.sort(sorted);
            for (int j = 0; j < n; j++) {
                TokenLogprob t = top.get(j);
                assertEquals(ref[t.tokenId()], t.logprob(), 1e-5);
                assertEquals(sorted[sorted.length - 1 - j], t.logprob(), 1e-5, "rank " + j);
                if (j > 0) assertTrue(top.get(j - 1).logprob() >= t.logprob());
            }
        }
    }

    @Test
    void chosenLogprobIsRawAndPresentEvenOutsideTheTopN() {
        float[] logits = {4f, 3f, 2f, 1f, -6f};
        double[] ref = ReferenceMath.logSoftmax(logits);
        SamplingParams p = SamplingParams.builder().temperature(0f).logitBias(Map.of(4, 100f)).logprobs(true)
                .topLogprobs(2).maxTokens(5).build();
        Sample s = new SequenceSampler(p, 0, new int[0], new int[0]).sample(logits.clone(), 0);
        assertEquals(4, s.tokenId());
        assertEquals(ref[4], s.logprob(), 1e-5); // the model's view: the bias is not in it
        assertEquals(List.of(0, 1), s.topLogprobs().stream().map(TokenLogprob::tokenId).toList());
        assertEquals(ref[0], s.topLogprobs().get(0).logprob(), 1e-5);
    }

    @Test
    void tiesInTheTopNListTheLowerIdFirst() {
        float[] logits = {1f, 2f, 2f, 0f, 2f};
        SamplingParams p = SamplingParams.builder().temperature(0f).logprobs(true).topLogprobs(4).maxTokens(5).build();
        Sample s = new SequenceSampler(p, 0, new int[0], new int[0]).sample(logits, 0);
        assertEquals(List.of(1, 2, 4, 0), s.topLogprobs().stream().map(TokenLogprob::tokenId).toList());
    }

    @Test
    void notRequestedMeansNaNAndNoAlternatives() {
        float[] logits = {1f, 2f, 3f};
        Sample off = new SequenceSampler(SamplingParams.greedy(5), 0, new int[0], new int[0]).sample(logits.clone(), 0);
        assertTrue(Float.isNaN(off.logprob()));
        assertTrue(off.topLogprobs().isEmpty());
        SamplingParams onlyChosen = SamplingParams.builder().temperature(0f).logprobs(true).maxTokens(5).build();
        Sample on = new SequenceSampler(onlyChosen, 0, new int[0], new int[0]).sample(logits.clone(), 0);
        assertEquals(ReferenceMath.logSoftmax(logits)[2], on.logprob(), 1e-6);
        assertTrue(on.topLogprobs().isEmpty());
    }
}
