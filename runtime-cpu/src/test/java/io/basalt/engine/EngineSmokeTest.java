package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.spi.Backend;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

class EngineSmokeTest {
    @Test
    void greedyFromBosMatchesTheReferenceThroughTheEngine() throws Exception {
        int[] expected = java.util.Arrays.stream(java.nio.file.Files.readString(
                Shared.reference("stories260K/greedy_200_ids.txt")).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        CpuModelRunner runner = new CpuBackend().load(Shared.model("stories260K/stories260K.bin"),
                new Backend.LoadConfig(64L << 20, 8, 256));
        Tokenizer tok = ModelTokenizer.forModel(runner.model().info(), null);
        try (Engine engine = new Engine(runner, tok, EngineConfig.defaults())) {
            RequestHandle a = engine.submit(new EngineRequest("a", new int[] {1},
                    SamplingParams.builder().temperature(0).maxTokens(200).ignoreEos(true).build(), 0));
            RequestHandle b = engine.submit(new EngineRequest("b", new int[] {1, 403, 407},
                    SamplingParams.builder().temperature(0).maxTokens(50).n(3).build(), 0));
            engine.runUntilIdle();
            RequestHandle.Result ra = a.result().getNow(null);
            assertArrayEquals(expected, ra.choices().get(0).tokenIds());
            assertEquals(FinishReason.LENGTH, ra.choices().get(0).finishReason());
            assertEquals(java.nio.file.Files.readString(Shared.reference("stories260K/greedy_200.txt")), ra.choices().get(0).text());
            RequestHandle.Result rb = b.result().getNow(null);
            assertEquals(3, rb.choices().size());
            assertArrayEquals(rb.choices().get(0).tokenIds(), rb.choices().get(2).tokenIds());
            assertEquals(0, engine.stats().numLiveKvSequences());
            assertEquals(0, engine.stats().kvUsedBlocks(), "every block is back in the pool");
        }
    }

    @Test
    void aThrowingListenerDoesNotStopTheEngine() throws Exception {
        CpuModelRunner runner = new CpuBackend().load(Shared.model("stories260K/stories260K.bin"),
                new Backend.LoadConfig(16L << 20, 8, 256));
        Tokenizer tok = ModelTokenizer.forModel(runner.model().info(), null);
        try (Engine engine = new Engine(runner, tok, EngineConfig.defaults()).start()) {
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(20).build();
            RequestHandle bad = engine.submit(new EngineRequest("bad", new int[] {1}, p, 0), e -> {
                throw new IllegalStateException("listener bug");
            });
            RequestHandle good = engine.submit(new EngineRequest("good", new int[] {1}, p, 0));
            assertEquals(20, bad.result().get(30, java.util.concurrent.TimeUnit.SECONDS).choices().get(0).tokenIds().length);
            assertArrayEquals(bad.result().get().choices().get(0).tokenIds(),
                    good.result().get(30, java.util.concurrent.TimeUnit.SECONDS).choices().get(0).tokenIds());
        }
    }
}
