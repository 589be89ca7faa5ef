package io.basalt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.basalt.api.SamplingParams;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.EngineTests;
import io.basalt.engine.RequestHandle;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.StepOutput;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cuda runner under the engine on the stand-in: concurrent requests in mixed prefill/decode steps give the tokens
 * each gives alone; decode graphs give the logits eager steps give, and the stand-in's log shows them replayed.
 */
class CudaEngineTest {
    private static final Path STORIES = Shared.model("stories260K/stories260K.bin");

    @BeforeAll
    static void standin() {
        String missing = RunnerStandin.missing();
        assumeTrue(missing == null, missing);
    }

    /** Counts the steps that mixed a prefill chunk with decodes. */
    static final class Counting implements ModelRunner {
        final ModelRunner inner;
        int mixed;
        int decodes;

        Counting(ModelRunner inner) { this.inner = inner; }

        @Override public ModelSpec spec() { return inner.spec(); }

        @Override public Capabilities capabilities() { return inner.capabilities(); }

        @Override
        public StepOutput execute(Batch batch) {
            boolean prefill = batch.sequences().stream().anyMatch(s -> s.numTokens() > 1);
            boolean decode = batch.sequences().stream().anyMatch(s -> s.numTokens() == 1);
            if (prefill && decode) mixed++;
            if (decode && !prefill) decodes++;
            return inner.execute(batch);
        }

        @Override public void close() { inner.close(); }
    }

    private static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
    }

    @Test
    void concurrentRequestsEqualTheirSingleSequenceTokens() {
        Tokenizer tok = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), 512);
        Random rnd = new Random(19);
        int count = 12;
        EngineRequest[] reqs = new EngineRequest[count];
        int[] arrival = new int[count];
        int[] never = new int[count];
        Arrays.fill(never, -1);
        for (int i = 0; i < count; i++) {
            reqs[i] = new EngineRequest("r" + i, EngineTests.randomTokens(rnd, 1 + rnd.nextInt(60), 512), greedy(1 + rnd.nextInt(16)), 0);
            arrival[i] = rnd.nextInt(30);
        }
        try (Backend b = new CudaBackendProvider().open();
             Counting runner = new Counting(b.load(STORIES, new Backend.LoadConfig(16L << 20, 8, 64)));
             Engine engine = new Engine(runner, tok, EngineTests.fitting(runner, EngineConfig.defaults()))) {
            int[][] alone = new int[count][];
            for (int i = 0; i < count; i++) {
                RequestHandle h = engine.submit(reqs[i]);
                EngineTests.runUntilIdle(engine, 10_000);
                alone[i] = EngineTests.done(h).choices().getFirst().tokenIds();
            }
            runner.mixed = 0;
            runner.decodes = 0;
            RequestHandle[] hs = EngineTests.runWithArrivals(engine, reqs, arrival, never);
            for (int i = 0; i < count; i++) {
                assertArrayEquals(alone[i], EngineTests.done(hs[i]).choices().getFirst().tokenIds(), "request " + i);
            }
            assertTrue(runner.mixed > 0, "some steps mixed prefill and decode");
            assertTrue(runner.decodes > 0, "some steps were all decodes");
            assertEquals(0, engine.stats().kvUsedBlocks());
        }
    }

    /** Prefills three sequences, then decodes them together for a few steps; returns every decode step's logits. */
    private static float[][][] decodeLogits(boolean graphs) {
        String before = System.getProperty("basalt.cuda.graphs");
        System.setProperty("basalt.cuda.graphs", Boolean.toString(graphs));
        try (CudaModelRunner r = new CudaBackend().load(STORIES, new Backend.LoadConfig(8L << 20, 4, 64))) {
            int[][] prompts = {{1, 403, 407, 261}, {1, 378, 410}, {1, 293, 363, 300, 301, 302}};
            int[][] tables = {{0, 1}, {2, 3}, {4, 5}};
            int[] next = new int[3];
            int[] pos = new int[3];
            List<SequenceInput> prefill = new java.util.ArrayList<>();
            for (int s = 0; s < 3; s++) {
                prefill.add(new SequenceInput(s, prompts[s], 0, tables[s], true));
                pos[s] = prompts[s].length;
            }
            StepOutput out = r.execute(new Batch(List.of(), prefill, Batch.HiddenStates.NONE));
            for (int s = 0; s < 3; s++) next[s] = argmax(out.logits(s));
            int steps = 6;
            float[][][] all = new float[steps][][];
            for (int t = 0; t < steps; t++) {
                // three sequences on odd steps, two on even ones: buckets 4 and 2
                int live = t % 2 == 0 ? 2 : 3;
                List<SequenceInput> step = new java.util.ArrayList<>();
                for (int s = 0; s < live; s++) step.add(new SequenceInput(s, new int[] {next[s]}, pos[s], tables[s], true));
                out = r.execute(new Batch(List.of(), step, Batch.HiddenStates.NONE));
                all[t] = new float[live][];
                for (int s = 0; s < live; s++) {
                    all[t][s] = out.logits(s);
                    next[s] = argmax(all[t][s]);
                    pos[s]++;
                }
            }
            if (graphs) assertEquals(2, r.graphCaptures(), "one graph per bucket (2 and 4)");
            else assertEquals(0, r.graphCaptures());
            return all;
        } finally {
            if (before == null) System.clearProperty("basalt.cuda.graphs");
            else System.setProperty("basalt.cuda.graphs", before);
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    @Test
    void decodeGraphsGiveTheEagerLogitsAndAreReplayed() {
        float[][][] eager = decodeLogits(false);
        RunnerStandin.reset();
        float[][][] graphed = decodeLogits(true);
        List<String> log = RunnerStandin.log();
        for (int t = 0; t < eager.length; t++) {
            for (int s = 0; s < eager[t].length; s++) assertArrayEquals(eager[t][s], graphed[t][s], 0f, "step " + t + " sequence " + s);
        }
        long replays = log.stream().filter(l -> l.startsWith("graph ")).count();
        assertEquals(6, replays, "every decode step replayed a graph: " + log.stream().filter(l -> l.startsWith("graph ")).toList());
    }
}
