package io.basalt.engine;

import static io.basalt.engine.EngineTests.done;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuModelRunner;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Seeded temperature-1 sampling is a property of the request: the same tokens alone (single-sequence
 * {@link EngineTestSupport#singleSequence} and an engine with nothing else to do) as inside a busy batch of 16; other seeds, other tokens.
 */
class SeededSamplingTest {
    private static final int MAX_TOKENS = 40;
    private static final long[] SEEDS = {7, 8, 9, 10};

    private static SamplingParams seeded(long seed) {
        return SamplingParams.builder().temperature(1.0f).seed(seed).maxTokens(MAX_TOKENS).build();
    }

    @Test
    void seededRequestsGiveTheSameTokensAloneAndInABatch() {
        int[] prompt = {1};  // BOS: stories260K then tells a story, so the draws are varied
        int[][] alone = new int[SEEDS.length][];
        int[][] aloneGenerator = new int[SEEDS.length][];
        int[][] batched = new int[SEEDS.length][];
        try (Engine engine = EngineTestSupport.engine(EngineTestSupport.load(EngineTestSupport.STORIES, 16L << 20),
                EngineConfig.defaults())) {
            CpuModelRunner runner = (CpuModelRunner) engine.runner();
            for (int i = 0; i < SEEDS.length; i++) {
                RequestHandle h = engine.submit(new EngineRequest("alone" + i, prompt, seeded(SEEDS[i]), 0));
                EngineTests.runUntilIdle(engine, 1000);
                alone[i] = done(h).choices().get(0).tokenIds();
                aloneGenerator[i] = EngineTestSupport.singleSequence(runner.model(), prompt, seeded(SEEDS[i]),
                        engine.tokenizer().eosIds());
            }

            // 16 requests: the 4 seeded ones among 12 others (greedy, other temperatures and seeds, other prompts),
            // arriving over the first steps so the seeded ones share steps with prefills and decodes.
            Random rnd = new Random(51);
            RequestHandle[] seededHandles = new RequestHandle[SEEDS.length];
            int next = 0;
            for (int r = 0; r < 16; r++) {
                if (r % 4 == 1) {
                    seededHandles[next] = engine.submit(new EngineRequest("seeded" + next, prompt, seeded(SEEDS[next]), 0));
                    next++;
                } else {
                    SamplingParams p = SamplingParams.builder().temperature(r % 3 == 0 ? 0f : 0.3f + rnd.nextFloat())
                            .seed(rnd.nextLong()).topK(r % 2 == 0 ? 0 : 20).maxTokens(10 + rnd.nextInt(40)).build();
                    engine.submit(new EngineRequest("other" + r, EngineTests.randomTokens(rnd, 1 + rnd.nextInt(120), 512), p, 0));
                }
                if (r % 3 == 0) engine.step();
            }
            int steps = EngineTests.runUntilIdle(engine, 1000);
            assertTrue(steps > 0);
            for (int i = 0; i < SEEDS.length; i++) batched[i] = done(seededHandles[i]).choices().get(0).tokenIds();
        }
        Set<List<Integer>> distinct = new HashSet<>();
        for (int i = 0; i < SEEDS.length; i++) {
            assertTrue(alone[i].length > 5, "seed " + SEEDS[i] + " produced only " + alone[i].length + " tokens");
            assertArrayEquals(aloneGenerator[i], alone[i], "seed " + SEEDS[i] + ": engine alone vs the single-sequence path");
            assertArrayEquals(alone[i], batched[i], "seed " + SEEDS[i] + ": alone vs in a batch of 16");
            distinct.add(Arrays.stream(alone[i]).boxed().toList());
        }
        assertEquals(SEEDS.length, distinct.size(), "different seeds should give different tokens");
        assertFalse(Arrays.equals(alone[0], alone[1]));
    }
}
