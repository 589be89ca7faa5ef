package io.basalt.server.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import io.basalt.api.SamplingParams;
import io.basalt.backend.Backends;
import io.basalt.cli.CliTest;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --backend neuron --compiled DIR} against the stand-in libnrt, as the official OpenAI Node SDK sees it:
 * the package is written by {@code basalt neuron compile --target standin}. Skips without node/npm, without the
 * stand-in (runtime-neuron/target/standin, -Dbasalt.nrt.library) or when this build cannot compile a stand-in package.
 */
class NeuronSdkE2ETest {
    @Test
    void officialSdkChatAndCompletionsOnTheNeuronStandin(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(Backends.isAvailable("neuron"), "the neuron backend is not available here");
        String lib = System.getProperty("basalt.nrt.library");
        Assumptions.assumeTrue(lib != null && Files.isRegularFile(Path.of(lib)), "the stand-in libnrt is not built (" + lib + ")");
        Path model = Shared.model("stories260K/stories260K.bin");
        Path pkg = dir.resolve("pkg");
        CliTest.Run compile = CliTest.run("neuron", "compile", model.toString(), "--out", pkg.toString(), "--target", "standin",
                "--prefill-buckets", "32,128", "--decode-batches", "1,4", "--max-batch", "4", "--max-length", "256");
        Assumptions.assumeTrue(compile.exitCode() == 0, () -> "no stand-in package in this build: " + compile.err().strip());
        Path e2e = NodeScripts.prepare();
        ServeSettings s = ServeSettings.forTests(model).withBackend("neuron").withCompiled(pkg).withNames(List.of("stories260K"));
        try (BasaltServer server = BasaltServer.start(s)) {
            int[] ids = server.model().encodePrompt("Once upon a time");
            String greedy = server.engine().submit(new EngineRequest("e2e-reference", ids, SamplingParams.greedy(32), 0))
                    .result().join().choices().getFirst().text();
            NodeScripts.Result r = NodeScripts.node(e2e, Duration.ofMinutes(3), "openai/sdk.mjs", server.baseUrl() + "/v1", "stories260K", greedy);
            System.out.printf("[e2e] neuron (stand-in): openai/sdk.mjs took %.1f s%n", r.took().toMillis() / 1e3);
            if (r.exitCode() != 0) fail("sdk.mjs exited with " + r.exitCode() + ":\n" + r.output());
        }
    }
}
