package io.basalt.server.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import io.basalt.api.SamplingParams;
import io.basalt.backend.Backends;
import io.basalt.engine.EngineRequest;
import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code serve --backend torch} as the official OpenAI Node SDK sees it: the same {@code sdk.mjs}
 * checks as {@link OpenAiSdkE2ETest} on stories260K. Skips without node/npm or libtorch.
 */
class TorchSdkE2ETest {
    @Test
    void officialSdkChatAndCompletionsOnTheTorchBackend() throws IOException {
        Assumptions.assumeTrue(Backends.isAvailable("torch"), "the torch backend (libtorch) is not available here");
        Path e2e = NodeScripts.prepare();
        ServeSettings s = ServeSettings.forTests(Shared.model("stories260K/stories260K.bin"))
                .withBackend("torch").withNames(List.of("stories260K"));
        try (BasaltServer server = BasaltServer.start(s)) {
            int[] ids = server.model().encodePrompt("Once upon a time");
            String greedy = server.engine().submit(new EngineRequest("e2e-reference", ids, SamplingParams.greedy(32), 0))
                    .result().join().choices().getFirst().text();
            NodeScripts.Result r = NodeScripts.node(e2e, Duration.ofMinutes(3), "openai/sdk.mjs", server.baseUrl() + "/v1", "stories260K", greedy);
            System.out.printf("[e2e] torch: openai/sdk.mjs took %.1f s%n", r.took().toMillis() / 1e3);
            if (r.exitCode() != 0) fail("sdk.mjs exited with " + r.exitCode() + ":\n" + r.output());
        }
    }
}
