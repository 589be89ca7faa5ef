package io.basalt.engine;

import static io.basalt.engine.EngineTestSupport.assertMatchesReference;
import static io.basalt.engine.EngineTests.done;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuModelRunner;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Request-level behaviour on stories260K: n > 1, aborting a waiting request, and what submit() rejects. */
class EngineRequestsTest {
    private static Engine stories(EngineConfig config) {
        return EngineTestSupport.engine(EngineTestSupport.load(EngineTestSupport.STORIES, 16L << 20), config);
    }

    @Test
    void greedyChoicesOfOneRequestAreIdenticalAndEqualNEqualsOne() {
        int[] prompt = EngineTests.randomTokens(new Random(41), 23, 512);
        SamplingParams n3 = EngineTests.greedy(30).toBuilder().n(3).build();
        try (Engine engine = stories(EngineConfig.defaults())) {
            RequestHandle multi = engine.submit(new EngineRequest("n3", prompt, n3, 0));
            RequestHandle single = engine.submit(new EngineRequest("n1", prompt, EngineTests.greedy(30), 0));
            EngineTests.runUntilIdle(engine, 1000);
            RequestHandle.Result r = done(multi);
            assertEquals(3, r.choices().size());
            assertEquals(90, r.numGeneratedTokens());
            var ref = EngineTestSupport.reference(((CpuModelRunner) engine.runner()).model(), prompt, 30);
            for (RequestHandle.Choice c : r.choices()) {
                assertEquals(FinishReason.LENGTH, c.finishReason());
                assertMatchesReference("choice " + c.index(), ref, c, 1e-4);
                assertEquals(r.choices().get(0).text(), c.text());
            }
            RequestHandle.Choice one = done(single).choices().get(0);
            assertArrayEquals(one.tokenIds(), r.choices().get(0).tokenIds());
            assertEquals(one.text(), r.choices().get(0).text());
            assertEquals(0, engine.stats().kvUsedBlocks());
            assertEquals(0, engine.stats().numLiveKvSequences());
        }
    }

    @Test
    void abortingAWaitingRequestFreesNothingAndEndsItWithAbort() {
        Random rnd = new Random(42);
        int[] runningPrompt = EngineTests.randomTokens(rnd, 20, 512);
        try (Engine engine = stories(EngineConfig.defaults().withMaxNumSeqs(1))) {
            int[] generated = {0};
            RequestHandle running = engine.submit(new EngineRequest("running", runningPrompt, EngineTests.greedy(40), 0),
                    e -> { if (e instanceof StreamEvent.Delta) generated[0]++; });
            engine.step();
            engine.step();
            RequestHandle waiting = engine.submit(new EngineRequest("waiting", EngineTests.randomTokens(rnd, 30, 512),
                    EngineTests.greedy(10), 0));
            engine.step();
            EngineStats before = engine.stats();
            assertEquals(1, before.numWaiting(), "max_num_seqs = 1 keeps the second request waiting");
            assertEquals(1, before.numLiveKvSequences());
            // The running request's KV: positions [0, prompt + generated - 1) are computed.
            assertEquals(EngineTestSupport.blocksFor(20 + generated[0] - 1), before.kvUsedBlocks());

            engine.abort("waiting");
            engine.step();
            RequestHandle.Result r = done(waiting);
            assertEquals(FinishReason.ABORT, r.choices().get(0).finishReason());
            assertEquals(0, r.choices().get(0).tokenIds().length);
            EngineStats after = engine.stats();
            assertEquals(0, after.numWaiting());
            assertEquals(1, after.numLiveKvSequences(), "only the running request holds KV");
            assertEquals(EngineTestSupport.blocksFor(20 + generated[0] - 1), after.kvUsedBlocks(),
                    "exactly the running request's blocks are in use: the waiting one held none and freed none");
            assertEquals(before.numPromptTokensComputed(), after.numPromptTokensComputed(), "the aborted prompt was never computed");
            assertFalse(running.result().isDone());

            EngineTests.runUntilIdle(engine, 1000);
            assertEquals(FinishReason.LENGTH, done(running).choices().get(0).finishReason());
            assertEquals(40, done(running).choices().get(0).tokenIds().length);
            assertEquals(0, engine.stats().kvUsedBlocks());
        }
    }

    @Test
    void abortingARunningRequestWithSeveralChoicesEndsThemAll() {
        try (Engine engine = stories(EngineConfig.defaults())) {
            RequestHandle h = engine.submit(new EngineRequest("r", EngineTests.randomTokens(new Random(43), 50, 512),
                    EngineTests.greedy(100).toBuilder().n(3).build(), 0));
            for (int i = 0; i < 5; i++) engine.step();
            assertEquals(3, engine.stats().numLiveKvSequences());
            engine.abort("r");
            engine.step();
            RequestHandle.Result r = done(h);
            assertEquals(3, r.choices().size());
            for (RequestHandle.Choice c : r.choices()) {
                assertEquals(FinishReason.ABORT, c.finishReason());
                assertEquals(5, c.tokenIds().length);
            }
            assertEquals(0, engine.stats().kvUsedBlocks());
            assertEquals(0, engine.stats().numLiveKvSequences());
            assertFalse(engine.hasWork());
        }
    }

    @Test
    void closingTheEngineAbortsWhatIsInFlight() {
        Engine engine = stories(EngineConfig.defaults().withMaxNumSeqs(2));
        RequestHandle running = engine.submit(new EngineRequest("a", new int[] {1, 400}, EngineTests.greedy(100).toBuilder()
                .n(2).build(), 0));
        engine.step();
        RequestHandle waiting = engine.submit(new EngineRequest("b", new int[] {1}, EngineTests.greedy(100), 0));
        RequestHandle queued = engine.submit(new EngineRequest("c", new int[] {1}, EngineTests.greedy(100), 0));
        engine.step();
        engine.close();
        for (RequestHandle h : new RequestHandle[] {running, waiting, queued}) {
            for (RequestHandle.Choice c : done(h).choices()) assertEquals(FinishReason.ABORT, c.finishReason(), h.requestId());
        }
        assertEquals(2, done(running).choices().get(1).tokenIds().length);
        assertThrows(IllegalStateException.class, () -> engine.submit(new EngineRequest("d", new int[] {1}, EngineTests.greedy(1), 0)));
    }

    @Test
    void submitRejectsBadRequests() {
        try (Engine engine = stories(EngineConfig.defaults().withMaxNumSeqs(4))) {
            int vocab = engine.runner().spec().vocabSize();
            int maxLen = engine.maxModelLen();
            assertEquals(512, maxLen);
            SamplingParams p = EngineTests.greedy(4);
            IllegalArgumentException oov = assertThrows(IllegalArgumentException.class,
                    () -> engine.submit(new EngineRequest("oov", new int[] {1, 5, vocab}, p, 0)));
            assertTrue(oov.getMessage().contains(String.valueOf(vocab)), oov.getMessage());
            assertThrows(IllegalArgumentException.class, () -> engine.submit(new EngineRequest("neg", new int[] {1, -1}, p, 0)));
            assertThrows(IllegalArgumentException.class,
                    () -> engine.submit(new EngineRequest("long", new int[maxLen], p, 0)), "prompt = context length");
            assertThrows(IllegalArgumentException.class,
                    () -> engine.submit(new EngineRequest("longer", new int[maxLen + 100], p, 0)));
            // n choices must be able to run at once, or the request would wait forever at the queue head.
            assertThrows(IllegalArgumentException.class, () -> engine.submit(new EngineRequest("wide",
                    new int[] {1, 5}, p.toBuilder().n(5).build(), 0)));
            assertFalse(engine.hasWork(), "rejected requests never reach the engine");

            // The longest acceptable prompt still works: maxLen - 1 tokens, one generated token.
            RequestHandle ok = engine.submit(new EngineRequest("ok", EngineTests.randomTokens(new Random(44), maxLen - 1, vocab),
                    EngineTests.greedy(10), 0));
            EngineTests.runUntilIdle(engine, 100);
            RequestHandle.Choice c = done(ok).choices().get(0);
            assertEquals(1, c.tokenIds().length, "the context is full after one token");
            assertEquals(FinishReason.LENGTH, c.finishReason());
        }
    }

    @Test
    void aPromptLargerThanTheWholePoolIsRejected() {
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.loadWithBlocks(EngineTestSupport.STORIES, 4),
                EngineConfig.defaults())) {
            assertThrows(IllegalArgumentException.class, () -> engine.submit(new EngineRequest("big",
                    EngineTests.randomTokens(new Random(45), 100, 512), EngineTests.greedy(4), 0)));
            RequestHandle ok = engine.submit(new EngineRequest("fits",
                    EngineTests.randomTokens(new Random(46), 40, 512), EngineTests.greedy(4), 0));
            EngineTests.runUntilIdle(engine, 100);
            assertEquals(4, done(ok).choices().get(0).tokenIds().length);
        }
    }
}
