package io.basalt.backend.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.RequestHandle;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.testing.Shared;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The torch runner under the real engine: scheduler, paged KV manager, sampler, detokenizer. */
class TorchEngineTest {
    private static Engine engine(TorchModelRunner runner) {
        return new Engine(runner, ModelTokenizer.forModel(runner.info(), null), EngineConfig.defaults());
    }

    private static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
    }

    @Test
    void greedy200FromBosIsLlama2csText() throws Exception {
        int[] expected = Arrays.stream(Files.readString(Shared.reference("stories260K/greedy_200_ids.txt")).trim().split("\\s+"))
                .mapToInt(Integer::parseInt).toArray();
        try (Engine engine = engine(TorchTestSupport.torch("stories260K/stories260K.bin", 16L << 20))) {
            RequestHandle h = engine.submit(new EngineRequest("a", new int[] {1}, greedy(200), 0));
            engine.runUntilIdle();
            RequestHandle.Choice c = h.result().getNow(null).choices().get(0);
            assertArrayEquals(expected, c.tokenIds());
            assertEquals(FinishReason.LENGTH, c.finishReason());
            assertEquals(Files.readString(Shared.reference("stories260K/greedy_200.txt")), c.text());
        }
    }

    /** Requests submitted from several threads to a running engine all complete, each as it would alone. */
    @Test
    void concurrentRequestsCompleteAsTheyWouldAlone() throws Exception {
        int[][] prompts = {{1, 403, 407, 261, 378}, {1, 291, 276, 286, 261, 370}, {1, 317, 439}, {1}};
        int[][] alone = new int[prompts.length][];
        try (Engine engine = engine(TorchTestSupport.torch("stories260K/stories260K.bin", 16L << 20))) {
            for (int i = 0; i < prompts.length; i++) {
                RequestHandle h = engine.submit(new EngineRequest("alone" + i, prompts[i], greedy(24), 0));
                engine.runUntilIdle();
                alone[i] = h.result().getNow(null).choices().get(0).tokenIds();
            }
        }
        try (Engine engine = engine(TorchTestSupport.torch("stories260K/stories260K.bin", 16L << 20)).start()) {
            List<RequestHandle> handles = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                int id = i;
                threads.add(Thread.ofPlatform().start(() -> handles.add(engine.submit(new EngineRequest("r" + id, prompts[id],
                        greedy(24), 0)))));
            }
            for (Thread t : threads) t.join();
            for (RequestHandle h : handles) {
                int id = Integer.parseInt(h.requestId().substring(1));
                assertArrayEquals(alone[id], h.result().get(60, TimeUnit.SECONDS).choices().get(0).tokenIds(), h.requestId());
            }
            assertEquals(prompts.length, handles.size());
        }
    }
}
