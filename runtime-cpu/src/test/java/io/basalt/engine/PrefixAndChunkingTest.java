package io.basalt.engine;

import static io.basalt.engine.EngineTestSupport.assertMatchesReference;
import static io.basalt.engine.EngineTests.done;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.engine.EngineTestSupport.Reference;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Prefix caching and chunked prefill on stories260K and gpt-oss-tiny-random (sliding window 4): less work, same tokens. */
class PrefixAndChunkingTest {
    private static final int MAX_TOKENS = 30;

    private record Run(int[] tokens, EngineStats before, EngineStats after, int steps, RequestHandle.Choice choice) { }

    /** Runs {@code first} to completion, then {@code second}, recording the stats around the second. */
    private static Run[] runBoth(String model, boolean prefixCaching, int[] first, int[] second) {
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.load(model, 64L << 20),
                EngineConfig.defaults().withPrefixCaching(prefixCaching))) {
            RequestHandle a = engine.submit(new EngineRequest("a", first, EngineTests.greedy(MAX_TOKENS), 0));
            EngineTests.runUntilIdle(engine, 1000);
            EngineStats before = engine.stats();
            RequestHandle b = engine.submit(new EngineRequest("b", second, EngineTests.greedy(MAX_TOKENS), 0));
            int steps = EngineTests.runUntilIdle(engine, 1000);
            EngineStats after = engine.stats();
            RequestHandle.Choice ca = done(a).choices().get(0), cb = done(b).choices().get(0);
            return new Run[] {new Run(ca.tokenIds(), null, before, 0, ca), new Run(cb.tokenIds(), before, after, steps, cb)};
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {EngineTestSupport.STORIES, EngineTestSupport.GPT_OSS})
    void aSharedPrefixIsServedFromTheCacheAndChangesNothing(String model) {
        Random rnd = new Random(21);
        int[] prefix = EngineTests.randomTokens(rnd, 200, 512);
        int[] first = concat(prefix, EngineTests.randomTokens(rnd, 12, 512));
        int[] second = concat(prefix, EngineTests.randomTokens(rnd, 37, 512));

        Run[] cached = runBoth(model, true, first, second);
        Run[] uncached = runBoth(model, false, first, second);

        EngineStats before = cached[1].before(), after = cached[1].after();
        assertEquals(192, after.prefixHitTokens() - before.prefixHitTokens(), "the block-aligned part of the 200-token prefix");
        assertEquals(second.length, after.prefixQueryTokens() - before.prefixQueryTokens());
        assertEquals(second.length - 192, after.numPromptTokensComputed() - before.numPromptTokensComputed(),
                "only the tokens past the cached blocks are computed");

        EngineStats ub = uncached[1].before(), ua = uncached[1].after();
        assertEquals(0, ua.prefixHitTokens() - ub.prefixHitTokens());
        assertEquals(second.length, ua.numPromptTokensComputed() - ub.numPromptTokensComputed());

        assertArrayEquals(uncached[0].tokens(), cached[0].tokens());
        assertArrayEquals(uncached[1].tokens(), cached[1].tokens(), "prefix caching must not change the output");
        for (int i = 0; i < MAX_TOKENS; i++) {
            assertEquals(uncached[1].choice().logprobs().get(i).logprob(), cached[1].choice().logprobs().get(i).logprob(), 1e-4);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {EngineTestSupport.STORIES, EngineTestSupport.GPT_OSS})
    void aChunkedPrefillEqualsTheUnchunkedOne(String model) {
        int[] prompt = EngineTests.randomTokens(new Random(22), 400, 512);
        RequestHandle.Choice chunked, whole;
        Reference ref;
        int chunkedPromptSteps;
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.load(model, 64L << 20),
                EngineConfig.defaults().withMaxNumBatchedTokens(64))) {
            int[] steps = {0};
            int[] firstTokenAt = {-1};
            RequestHandle h = engine.submit(new EngineRequest("c", prompt, EngineTests.greedy(MAX_TOKENS), 0), e -> {
                if (e instanceof StreamEvent.Delta && firstTokenAt[0] < 0) firstTokenAt[0] = steps[0];
            });
            while (engine.hasWork()) {
                steps[0]++;
                assertTrue(engine.step() <= 64, "a step must stay within the 64-token budget");
            }
            chunkedPromptSteps = firstTokenAt[0];
            chunked = done(h).choices().get(0);
            assertEquals(400, engine.stats().numPromptTokensComputed());
            ref = EngineTestSupport.reference(((CpuModelRunner) engine.runner()).model(), prompt, MAX_TOKENS);
        }
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.load(model, 64L << 20),
                EngineConfig.defaults().withMaxNumBatchedTokens(2048))) {
            int[] tokensAfterFirstStep = {0};
            RequestHandle h = engine.submit(new EngineRequest("w", prompt, EngineTests.greedy(MAX_TOKENS), 0), e -> {
                if (e instanceof StreamEvent.Delta) tokensAfterFirstStep[0]++;
            });
            assertEquals(400, engine.step(), "the whole prompt in one step");
            assertEquals(1, tokensAfterFirstStep[0], "and the first token right after it");
            EngineTests.runUntilIdle(engine, 1000);
            whole = done(h).choices().get(0);
        }
        assertEquals(7, chunkedPromptSteps, "ceil(400 / 64) = 7 steps until the first token");
        assertArrayEquals(whole.tokenIds(), chunked.tokenIds(), "chunked and unchunked prefill must agree");
        for (int i = 0; i < MAX_TOKENS; i++) {
            assertEquals(whole.logprobs().get(i).logprob(), chunked.logprobs().get(i).logprob(), 1e-4);
        }
        assertMatchesReference("chunked", ref, chunked, 1e-4);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
