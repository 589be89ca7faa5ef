package io.basalt.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineStats;
import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.WideVocabGptOss;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

/**
 * Tool calling through the official OpenAI Node SDK ({@code e2e/openai/tools.mjs}): tool_choice named, required
 * (parallel or not), none and auto, streamed (accumulated by hand and by the SDK's ChatCompletionStream) and not, and a
 * tool-result round trip, against gpt-oss-tiny-random (harmony; its vocabulary widened to o200k at test time so that
 * harmony prompts fit, {@link WideVocabGptOss}) and against a chat-template model: llama-2-tiny-random (GGUF, Llama 2's
 * 32k vocabulary) served with {@code --chat-template testdata/reference/chat-templates/hermes.jinja} (hermes calls).
 * Afterwards the engine must hold nothing. Skipped when node/npm are
 * missing or npm cannot install offline.
 */
class ToolsSdkE2ETest {
    static final Duration SCRIPT_LIMIT = Duration.ofMinutes(4);

    @TempDir
    static Path temp;
    static Path e2e;
    static String skipped;

    @BeforeAll
    static void prepare() {
        try {
            e2e = NodeScripts.prepare();
        } catch (TestAbortedException e) {
            skipped = e.getMessage().replaceFirst("^Assumption failed: ", "");
        }
    }

    static void run(BasaltServer server, String model) throws IOException, InterruptedException {
        NodeScripts.Result r = NodeScripts.node(e2e, SCRIPT_LIMIT, "openai/tools.mjs", server.baseUrl() + "/v1", model);
        System.out.printf("[e2e] tools.mjs (%s) took %.1f s%n%s", model, r.took().toMillis() / 1e3, r.output());
        if (r.exitCode() != 0) fail("tools.mjs exited with " + r.exitCode() + ":\n" + r.output());
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        EngineStats s = server.engine().stats();
        while (System.nanoTime() < deadline && (s.kvUsedBlocks() != 0 || s.numRunning() != 0 || server.service().inFlight() != 0)) {
            Thread.sleep(20);
            s = server.engine().stats();
        }
        assertEquals(0, server.service().inFlight(), "requests still in flight");
        assertEquals(0, s.numRunning(), "sequences still running: " + s);
        assertEquals(0, s.kvUsedBlocks(), "KV blocks still held: " + s);
    }

    @Test
    void hermesChatTemplateToolsThroughTheSdk() throws IOException, InterruptedException {
        Assumptions.assumeTrue(skipped == null, skipped);
        Path template = io.basalt.testing.Shared.reference("chat-templates/hermes.jinja");
        io.basalt.server.ChatSettings chat = io.basalt.server.ChatSettings.DEFAULT
                .withTemplate(io.basalt.server.ChatSettings.readTemplate(template), template.toString());
        ServeSettings s = ServeSettings.forTests(io.basalt.testing.Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"))
                .withNames(List.of("llama-hermes"))
                .withServer(io.basalt.server.ServerConfig.forTests().withChat(chat))
                .withEngine(new EngineConfig(8, 1024, 64L << 20, true, 4096));
        try (BasaltServer server = BasaltServer.start(s)) {
            run(server, "llama-hermes");
        }
    }

    @Test
    void harmonyToolsThroughTheSdk() throws IOException, InterruptedException {
        Assumptions.assumeTrue(skipped == null, skipped);
        Path model = WideVocabGptOss.write(temp.resolve("gpt-oss-tiny-random-o200k"));
        ServeSettings s = ServeSettings.forTests(model).withNames(List.of("gpt-oss"))
                .withEngine(new EngineConfig(8, 1024, 64L << 20, true, 8192));
        try (BasaltServer server = BasaltServer.start(s)) {
            run(server, "gpt-oss");
        }
    }
}
