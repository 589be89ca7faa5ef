package io.basalt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.StreamEvent;
import io.basalt.testing.Shared;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The embedded API end to end, with the engine on its own thread and callers on others. */
class BasaltTest {
    @Test
    @Timeout(60)
    void concurrentCallersGetTheirOwnCompletions() throws Exception {
        String reference = Files.readString(Shared.reference("stories260K/greedy_200.txt"));
        try (Basalt llm = Basalt.open(Shared.model("stories260K/stories260K.bin"), EngineConfig.defaults())) {
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(200).build();
            List<CompletableFuture<RequestHandle.Result>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) futures.add(CompletableFuture.supplyAsync(() -> llm.complete("", greedy)).thenCompose(f -> f));
            for (var f : futures) {
                RequestHandle.Result r = f.get(60, TimeUnit.SECONDS);
                assertEquals(reference, r.choices().get(0).text());
                assertEquals(FinishReason.LENGTH, r.choices().get(0).finishReason());
            }
            List<String> deltas = new CopyOnWriteArrayList<>();
            RequestHandle h = llm.submit(llm.encodePrompt("Once upon a time"),
                    SamplingParams.builder().temperature(0).maxTokens(40).stop(List.of("Lily")).build(),
                    e -> { if (e instanceof StreamEvent.Delta d) deltas.add(d.text()); });
            RequestHandle.Result r = h.result().get(60, TimeUnit.SECONDS);
            assertEquals(FinishReason.STOP, r.choices().get(0).finishReason());
            assertEquals(", there was a little girl named ", r.choices().get(0).text());
            assertEquals(r.choices().get(0).text(), String.join("", deltas));
            // Results complete inside the step; the stats snapshot is published at its end.
            for (int i = 0; i < 200 && llm.engine().stats().kvUsedBlocks() != 0; i++) Thread.sleep(10);
            assertEquals(0, llm.engine().stats().kvUsedBlocks());
        }
    }
}
