package io.basalt.engine;

import static io.basalt.engine.EngineTestSupport.assertMatchesReference;
import static io.basalt.engine.EngineTests.done;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.engine.EngineTestSupport.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Batch invariance: 32 greedy requests (prompts of 1–300 random tokens, max_tokens 1–40) arriving at seeded
 * random steps produce, token for token, what the single-sequence reference path produces for each alone,
 * and their raw logprobs (chosen token and top 5) agree with the reference's log_softmax within 1e-4.
 */
class BatchInvarianceTest {
    private static final int NUM_REQUESTS = 32;

    @ParameterizedTest
    @ValueSource(strings = {EngineTestSupport.STORIES, EngineTestSupport.GPT_OSS})
    void everyRequestMatchesItsSingleSequenceRun(String model) {
        Random rnd = new Random(0xBA5A17L);
        // A 256-token budget makes long prompts prefill in chunks while other requests decode.
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.load(model, 64L << 20),
                EngineConfig.defaults().withMaxNumBatchedTokens(256))) {
            CpuModelRunner runner = (CpuModelRunner) engine.runner();
            int vocab = runner.spec().vocabSize();
            int[][] prompts = new int[NUM_REQUESTS][];
            int[] maxTokens = new int[NUM_REQUESTS];
            int[] arrival = new int[NUM_REQUESTS];
            for (int i = 0; i < NUM_REQUESTS; i++) {
                int len = i == 0 ? 1 : i == 1 ? 300 : 1 + rnd.nextInt(300);
                prompts[i] = EngineTests.randomTokens(rnd, len, vocab);
                maxTokens[i] = i == 2 ? 1 : i == 3 ? 40 : 1 + rnd.nextInt(40);
                arrival[i] = rnd.nextInt(60);
            }
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < NUM_REQUESTS; i++) handles.add(null);
            int submitted = 0;
            int maxRunning = 0;
            for (int step = 0; submitted < NUM_REQUESTS || engine.hasWork(); step++) {
                for (int i = 0; i < NUM_REQUESTS; i++) {
                    if (arrival[i] == step) {
                        handles.set(i, engine.submit(new EngineRequest("r" + i, prompts[i], EngineTests.greedy(maxTokens[i]), 0)));
                        submitted++;
                    }
                }
                engine.step();
                maxRunning = Math.max(maxRunning, engine.stats().numRunning());
                assertTrue(step < 5000, "the engine does not finish");
            }
            assertTrue(maxRunning >= 8, "the schedule should batch many requests together, saw at most " + maxRunning);

            for (int i = 0; i < NUM_REQUESTS; i++) {
                Reference ref = EngineTestSupport.reference(runner.model(), prompts[i], maxTokens[i]);
                RequestHandle.Result r = done(handles.get(i));
                assertEquals(1, r.choices().size());
                assertEquals(FinishReason.LENGTH, r.choices().get(0).finishReason());
                assertEquals(prompts[i].length, r.numPromptTokens());
                assertMatchesReference(model + " request " + i + " (prompt " + prompts[i].length + ", max_tokens "
                        + maxTokens[i] + ")", ref, r.choices().get(0), 1e-4);
            }
            EngineStats s = engine.stats();
            assertEquals(0, s.kvUsedBlocks());
            assertEquals(0, s.numLiveKvSequences());
        }
    }
}
