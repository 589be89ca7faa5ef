package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * No leaks: 2,000 randomized requests (short prompts, max_tokens 1–12, random temperature/seed, n 1–3, stop
 * strings from stories260K's vocabulary, priorities, ~20% aborted at random times) through a 24-block pool,
 * so that requests queue, get preempted, finish by stop string, EOS and length, and get aborted in every state.
 * Afterwards every block is back and every request has its complete, consistent result.
 */
class EngineStressTest {
    private static final int NUM_REQUESTS = 2000;
    private static final String[] OPENERS = {"Once upon a time", "Lily wanted to", "The cat was", "One day, a little",
        "He said", "Tom and Lily went to the park.", "She was very happy", "The sun", "They played", "Mom"};
    private static final String[] STOPS = {"the", "Lily", ".", "and", "He", "was"};

    @Test
    void everyRequestFinishesAndEveryBlockComesBack() {
        Random rnd = new Random(61);
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.loadWithBlocks(EngineTestSupport.STORIES, 24),
                EngineConfig.defaults())) {
            Tokenizer tok = engine.tokenizer();
            int vocab = engine.runner().spec().vocabSize();
            EngineRequest[] requests = new EngineRequest[NUM_REQUESTS];
            int[] arrival = new int[NUM_REQUESTS];
            int[] abortAt = new int[NUM_REQUESTS];
            int step = 0;
            for (int i = 0; i < NUM_REQUESTS; i++) {
                if (rnd.nextInt(3) == 0) step++;  // ~1.5 arrivals per step
                arrival[i] = step;
                abortAt[i] = rnd.nextInt(5) == 0 ? step + rnd.nextInt(15) : -1;
                int[] prompt = prompt(rnd, tok, vocab);
                SamplingParams.Builder p = SamplingParams.builder()
                        .temperature(new float[] {0f, 0.7f, 1f, 1.3f}[rnd.nextInt(4)])
                        .seed(rnd.nextLong())
                        .n(1 + rnd.nextInt(3))
                        .maxTokens(1 + rnd.nextInt(12))
                        .logprobs(rnd.nextBoolean());
                if (rnd.nextInt(10) < 6) {
                    List<String> stops = new ArrayList<>();
                    for (int k = 1 + rnd.nextInt(2); k > 0; k--) stops.add(STOPS[rnd.nextInt(STOPS.length)]);
                    p.stop(stops.stream().distinct().toList());
                }
                requests[i] = new EngineRequest("q" + i, prompt, p.build(), rnd.nextInt(4));
            }

            RequestHandle[] handles = new RequestHandle[NUM_REQUESTS];
            int[][] finishStep = new int[NUM_REQUESTS][];
            int[] currentStep = {0};
            int submitted = 0;
            int maxWaiting = 0;
            for (int s = 0; submitted < NUM_REQUESTS || engine.hasWork(); s++) {
                currentStep[0] = s;
                while (submitted < NUM_REQUESTS && arrival[submitted] <= s) {
                    int[] finished = finishStep[submitted] = new int[requests[submitted].params().n()];
                    Arrays.fill(finished, -1);
                    handles[submitted] = engine.submit(requests[submitted], e -> {
                        if (e instanceof StreamEvent.Finished f) {
                            assertEquals(-1, finished[f.choiceIndex()], "a choice finished twice");
                            finished[f.choiceIndex()] = currentStep[0];
                        }
                    });
                    submitted++;
                }
                for (int i = 0; i < submitted; i++) {
                    if (abortAt[i] == s) engine.abort(requests[i].requestId());
                }
                engine.step();
                maxWaiting = Math.max(maxWaiting, engine.stats().numWaiting());
                assertTrue(s < 200_000, "the engine does not finish");
            }

            EngineStats stats = engine.stats();
            assertEquals(0, stats.kvUsedBlocks(), "every block is back in the pool");
            assertEquals(0, stats.numLiveKvSequences());
            assertEquals(0, stats.numRunning());
            assertEquals(0, stats.numWaiting());
            assertFalse(engine.hasWork());
            assertTrue(stats.numPreemptions() > 0, "the 24-block pool should force preemptions");
            assertTrue(maxWaiting > 10, "requests should have queued");

            long totalTokens = 0;
            int abortedChoices = 0, finishedBeforeAbort = 0, stoppedByString = 0, stoppedByEos = 0, length = 0;
            for (int i = 0; i < NUM_REQUESTS; i++) {
                EngineRequest req = requests[i];
                SamplingParams p = req.params();
                assertTrue(handles[i].result().isDone(), req.requestId() + " never completed");
                RequestHandle.Result r = handles[i].result().join();
                assertEquals(p.n(), r.choices().size(), req.requestId());
                int sum = 0;
                for (RequestHandle.Choice c : r.choices()) {
                    String what = req.requestId() + "#" + c.index() + " " + c.finishReason() + " " + Arrays.toString(c.tokenIds());
                    assertNotNull(c.finishReason(), what);
                    assertNull(c.error(), what);
                    assertTrue(c.tokenIds().length <= p.maxTokens(), what);
                    sum += c.tokenIds().length;
                    if (p.logprobs()) assertEquals(c.tokenIds().length, c.logprobs().size(), what);
                    for (String stop : p.stop()) {
                        assertFalse(c.text().contains(stop), what + ": text '" + c.text() + "' contains stop string '" + stop + "'");
                    }
                    switch (c.finishReason()) {
                        case ABORT -> {
                            assertTrue(abortAt[i] >= 0, what + ": ABORT without an abort");
                            assertEquals(abortAt[i], finishStep[i][c.index()], what + ": ended by the step that applied the abort");
                            abortedChoices++;
                        }
                        case LENGTH -> {
                            assertEquals(p.maxTokens(), c.tokenIds().length, what);
                            length++;
                        }
                        case STOP -> {
                            // A stop string, or EOS (never emitted), before max_tokens.
                            boolean byString = !p.stop().isEmpty() && !tok.decode(c.tokenIds()).equals(c.text());
                            if (byString) stoppedByString++;
                            else stoppedByEos++;
                        }
                        default -> throw new AssertionError(what);
                    }
                    if (abortAt[i] >= 0 && c.finishReason() != FinishReason.ABORT) {
                        assertTrue(finishStep[i][c.index()] < abortAt[i], what + ": a normal finish must come before the abort");
                        finishedBeforeAbort++;
                    }
                }
                assertEquals(sum, r.numGeneratedTokens());
                totalTokens += sum;
            }
            assertEquals(stats.numGeneratedTokens(), totalTokens, "every generated token reached exactly one result");
            assertTrue(abortedChoices > 100, "aborted choices: " + abortedChoices);
            assertTrue(finishedBeforeAbort > 10, "some aborts should come after the end: " + finishedBeforeAbort);
            assertTrue(stoppedByString > 100, "stop strings should end many choices: " + stoppedByString);
            assertTrue(length > 100, "length finishes: " + length);
            System.out.printf("stress: %d steps, %d preemptions, %d tokens, abort %d (late %d), stop-string %d, eos %d, length %d%n",
                    stats.numSteps(), stats.numPreemptions(), totalTokens, abortedChoices, finishedBeforeAbort, stoppedByString,
                    stoppedByEos, length);
        }
    }

    /** BOS, a story opener (sometimes cut short or followed by a few random ids): 1 to ~25 tokens. */
    private static int[] prompt(Random rnd, Tokenizer tok, int vocab) {
        int[] text = tok.encode(OPENERS[rnd.nextInt(OPENERS.length)]);
        int len = 1 + rnd.nextInt(text.length + 1);
        int extra = rnd.nextInt(4) == 0 ? rnd.nextInt(12) : 0;
        int[] p = new int[len + extra];
        p[0] = 1;
        System.arraycopy(text, 0, p, 1, len - 1);
        for (int i = len; i < p.length; i++) p[i] = 3 + rnd.nextInt(vocab - 3);
        return p;
    }
}
