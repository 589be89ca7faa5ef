package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.backend.cpu.model.KvCache;
import io.basalt.backend.cpu.model.Model;
import io.basalt.engine.sampling.Sample;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.spi.Backend;
import io.basalt.testing.ReferenceMath;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Shared helpers of the engine acceptance tests: CPU runners, the single-sequence reference, step driving. */
final class EngineTestSupport {
    private EngineTestSupport() { }

    static final String STORIES = "stories260K/stories260K.bin";
    static final String GPT_OSS = "gpt-oss-tiny-random/hf";

    /** A CPU runner with the given KV budget in bytes. */
    static CpuModelRunner load(String model, long kvBytes) {
        return new CpuBackend().load(Shared.model(model), new Backend.LoadConfig(kvBytes, 64, 2048));
    }

    /** A CPU runner whose pool holds exactly {@code numBlocks} blocks (16 positions each). */
    static CpuModelRunner loadWithBlocks(String model, int numBlocks) {
        long perToken;
        try (CpuModelRunner probe = load(model, 16L << 20)) {
            perToken = probe.spec().kvBytesPerToken();
        }
        CpuModelRunner runner = load(model, (long) numBlocks * CpuModelRunner.BLOCK_SIZE * perToken);
        assertEquals(numBlocks, runner.capabilities().numKvBlocks());
        return runner;
    }

    static Tokenizer tokenizer(CpuModelRunner runner) {
        return ModelTokenizer.forModel(runner.model().info(), null);
    }

    /** The engine owns the runner: closing the engine closes it (so tests never close the runner themselves). */
    static Engine engine(CpuModelRunner runner, EngineConfig config) {
        return new Engine(runner, tokenizer(runner), EngineTests.fitting(runner, config));
    }




    /** The single-sequence result: greedy tokens and, per position, log_softmax of the reference logits. */
    record Reference(int[] tokens, double[] chosenLogprobs, double[][] top5Logprobs) { }

    /**
     * The single-sequence reference path: one contiguous {@link KvCache}, {@code model.forward} over the prompt,
     * then one token at a time, greedy argmax, exactly {@code maxTokens} tokens (ignore_eos).
     */
    static Reference reference(Model model, int[] prompt, int maxTokens) {
        KvCache cache = model.newCache();
        float[] logits = model.forward(cache, prompt, Model.Logits.LAST)[0];
        int[] out = new int[maxTokens];
        double[] chosen = new double[maxTokens];
        double[][] top = new double[maxTokens][];
        for (int i = 0; i < maxTokens; i++) {
            int t = SequenceSampler.argmax(logits);
            double[] logSoftmax = ReferenceMath.logSoftmax(logits);
            out[i] = t;
            chosen[i] = logSoftmax[t];
            top[i] = Arrays.stream(logSoftmax).boxed().sorted((a, b) -> Double.compare(b, a)).limit(5)
                    .mapToDouble(Double::doubleValue).toArray();
            if (i + 1 < maxTokens) logits = model.forward(cache, new int[] {t}, Model.Logits.LAST)[0];
        }
        return new Reference(out, chosen, top);
    }

    /** The choice's tokens equal the reference's, and its logprobs (chosen and top 5) agree within {@code tol}. */
    static void assertMatchesReference(String what, Reference ref, RequestHandle.Choice choice, double tol) {
        assertNotNull(choice, what);
        assertArrayEquals(ref.tokens(), choice.tokenIds(), what + ": tokens differ from the single-sequence reference");
        List<Sample> lps = choice.logprobs();
        assertEquals(ref.tokens().length, lps.size(), what + ": one logprob entry per token");
        for (int i = 0; i < lps.size(); i++) {
            Sample s = lps.get(i);
            assertEquals(ref.tokens()[i], s.tokenId(), what + " @" + i);
            assertEquals(ref.chosenLogprobs()[i], s.logprob(), tol, what + ": chosen logprob @" + i);
            assertEquals(5, s.topLogprobs().size(), what + ": top-5 @" + i);
            for (int k = 0; k < 5; k++) {
                assertEquals(ref.top5Logprobs()[i][k], s.topLogprobs().get(k).logprob(), tol, what + ": top-" + k + " logprob @" + i);
            }
        }
    }



    static int blocksFor(int positions) {
        return (positions + CpuModelRunner.BLOCK_SIZE - 1) / CpuModelRunner.BLOCK_SIZE;
    }

    /**
     * The plain single-sequence path, without the engine: the prompt in one forward pass, then one token at a time
     * until a stop token, max_tokens or the context. The reference the engine's scheduling must not change.
     */
    static int[] singleSequence(Model model, int[] prompt, SamplingParams params, int[] stopIds) {
        SequenceSampler sampler = new SequenceSampler(params, 0, prompt, stopIds);
        KvCache cache = model.newCache();
        float[] logits = model.forward(cache, prompt, Model.Logits.LAST)[0];
        List<Integer> out = new ArrayList<>();
        while (out.size() < params.maxTokens()) {
            int next = sampler.sample(logits, out.size()).tokenId();
            if (sampler.isStopToken(next, out.size())) break;
            out.add(next);
            if (cache.length() >= model.info().maxPositions()) break;
            logits = model.forward(cache, new int[] {next}, Model.Logits.LAST)[0];
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
