package io.basalt.engine;

import static io.basalt.engine.EngineTestSupport.assertMatchesReference;
import static io.basalt.engine.EngineTests.done;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.backend.cpu.CpuModelRunner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** A KV pool too small for the running sequences: preemption (recompute) keeps every output exact. */
class PreemptionTest {
    @ParameterizedTest
    @ValueSource(strings = {EngineTestSupport.STORIES, EngineTestSupport.GPT_OSS})
    void everyRequestCompletesWithItsAloneOutput(String model) {
        int numRequests = 8;
        Random rnd = new Random(31);
        // 12 blocks = 192 positions, while the 8 requests grow to ~8 × 75.
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.loadWithBlocks(model, 12), EngineConfig.defaults())) {
            CpuModelRunner runner = (CpuModelRunner) engine.runner();
            int[][] prompts = new int[numRequests][];
            int[] maxTokens = new int[numRequests];
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < numRequests; i++) {
                prompts[i] = EngineTests.randomTokens(rnd, 20 + rnd.nextInt(40), runner.spec().vocabSize());
                maxTokens[i] = 20 + rnd.nextInt(21);
                handles.add(engine.submit(new EngineRequest("p" + i, prompts[i], EngineTests.greedy(maxTokens[i]), 0)));
                engine.step();
            }
            EngineTests.runUntilIdle(engine, 10_000);
            EngineStats s = engine.stats();
            assertTrue(s.numPreemptions() > 0, "the 12-block pool should force preemptions");
            assertEquals(0, s.kvUsedBlocks());
            assertEquals(0, s.numLiveKvSequences());
            for (int i = 0; i < numRequests; i++) {
                RequestHandle.Choice c = done(handles.get(i)).choices().get(0);
                assertEquals(FinishReason.LENGTH, c.finishReason());
                assertMatchesReference(model + " request " + i, EngineTestSupport.reference(runner.model(), prompts[i], maxTokens[i]),
                        c, 1e-4);
            }
        }
    }

    /**
     * Two requests whose KV does not fit an 8-block pool together. The victim is the one with the larger
     * priority value even when it arrived first; on equal priorities, the later arrival. The victim is seen
     * from outside as a step without a token between its first token and its end (it was taken off the batch);
     * the survivor gets a token every step.
     */
    @ParameterizedTest
    @CsvSource({"5, 0, early", "0, 5, late", "0, 0, late"})
    void theLowerPriorityRequestIsPreempted(int earlyPriority, int latePriority, String expectedVictim) {
        Random rnd = new Random(32);
        int[] earlyPrompt = EngineTests.randomTokens(rnd, 40, 512);
        int[] latePrompt = EngineTests.randomTokens(rnd, 40, 512);
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.loadWithBlocks(EngineTestSupport.STORIES, 8),
                EngineConfig.defaults().withPrefixCaching(false))) {
            CpuModelRunner runner = (CpuModelRunner) engine.runner();
            Map<String, TreeSet<Integer>> tokenSteps = new HashMap<>();
            Map<String, Integer> finishStep = new HashMap<>();
            int[] step = {0};
            java.util.function.Function<String, java.util.function.Consumer<StreamEvent>> listener = id -> e -> {
                if (e instanceof StreamEvent.Delta) tokenSteps.computeIfAbsent(id, k -> new TreeSet<>()).add(step[0]);
                if (e instanceof StreamEvent.Finished) finishStep.put(id, step[0]);
            };
            RequestHandle early = engine.submit(new EngineRequest("early", earlyPrompt, EngineTests.greedy(40), earlyPriority),
                    listener.apply("early"));
            engine.step();
            step[0]++;
            RequestHandle late = engine.submit(new EngineRequest("late", latePrompt, EngineTests.greedy(40), latePriority),
                    listener.apply("late"));
            for (; engine.hasWork(); step[0]++) {
                engine.step();
                assertTrue(step[0] < 1000);
            }
            assertTrue(engine.stats().numPreemptions() > 0, "8 blocks cannot hold both requests: someone is preempted");
            String survivor = expectedVictim.equals("early") ? "late" : "early";
            assertEquals(0, gaps(tokenSteps.get(survivor)), survivor + " must never be preempted");
            assertTrue(gaps(tokenSteps.get(expectedVictim)) > 0, expectedVictim + " should have been preempted");
            assertTrue(finishStep.get(survivor) < finishStep.get(expectedVictim), "the survivor finishes first");
            assertMatchesReference("early", EngineTestSupport.reference(runner.model(), earlyPrompt, 40),
                    done(early).choices().get(0), 1e-4);
            assertMatchesReference("late", EngineTestSupport.reference(runner.model(), latePrompt, 40),
                    done(late).choices().get(0), 1e-4);
            assertEquals(0, engine.stats().kvUsedBlocks());
        }
    }

    /** Steps between the first and the last token that produced no token. */
    private static int gaps(TreeSet<Integer> steps) {
        return steps.last() - steps.first() + 1 - steps.size();
    }
}
