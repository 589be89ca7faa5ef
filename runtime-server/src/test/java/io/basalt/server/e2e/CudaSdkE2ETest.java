package io.basalt.server.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import io.basalt.api.SamplingParams;
import io.basalt.backend.Backends;
import io.basalt.engine.EngineRequest;
import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code serve --backend cuda} against the stand-in libcuda (runtime-cuda/target/standin, -Dbasalt.cuda.library), as the
 * official OpenAI Node SDK sees it. Skips without node/npm, without the stand-in, or while the cuda backend cannot load
 * stories260K on this build.
 */
class CudaSdkE2ETest {
    @Test
    void officialSdkChatAndCompletionsOnTheCudaStandin() throws IOException {
        Assumptions.assumeTrue(Backends.names().contains("cuda"), "the cuda backend is not installed here");
        String lib = System.getProperty("basalt.cuda.library");
        Assumptions.assumeTrue(lib != null && Files.isRegularFile(Path.of(lib)), "the stand-in libcuda is not built (" + lib + ")");
        Path model = Shared.model("stories260K/stories260K.bin");
        ServeSettings s = ServeSettings.forTests(model).withBackend("cuda").withNames(List.of("stories260K"));
        BasaltServer server;
        try {
            server = BasaltServer.start(s);
        } catch (RuntimeException e) {
            Assumptions.abort("the cuda backend does not serve stories260K on this build yet: " + e.getMessage());
            return;
        }
        try (server) {
            Path e2e = NodeScripts.prepare();
            int[] ids = server.model().encodePrompt("Once upon a time");
            String greedy = server.engine().submit(new EngineRequest("e2e-reference", ids, SamplingParams.greedy(32), 0))
                    .result().join().choices().getFirst().text();
            NodeScripts.Result r = NodeScripts.node(e2e, Duration.ofMinutes(3), "openai/sdk.mjs", server.baseUrl() + "/v1", "stories260K", greedy);
            System.out.printf("[e2e] cuda (stand-in): openai/sdk.mjs took %.1f s%n", r.took().toMillis() / 1e3);
            if (r.exitCode() != 0) fail("sdk.mjs exited with " + r.exitCode() + ":\n" + r.output());
        }
    }
}
