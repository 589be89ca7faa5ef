package io.basalt.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.basalt.api.SamplingParams;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.EngineStats;
import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.opentest4j.TestAbortedException;

/**
 * The server as the official OpenAI Node SDK sees it: {@code BasaltServer} in-process on
 * stories260K (free port, no gRPC, --max-num-seqs 8 --max-queue 32), then the scripts of
 * {@code e2e/openai/}. After each, the engine must be back to idle: no KV block held, no live
 * sequence, nothing in flight. Skipped when node/npm are missing or npm cannot install offline.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenAiSdkE2ETest {
    static final String MODEL = "stories260K";
    static final int MAX_NUM_SEQS = 8;
    static final int MAX_QUEUE = 32;
    static final Duration SCRIPT_LIMIT = Duration.ofMinutes(3);

    static Path e2e;
    static BasaltServer server;
    static String skipped;

    @BeforeAll
    static void start() {
        try {
            e2e = NodeScripts.prepare();
        } catch (TestAbortedException e) {
            skipped = e.getMessage().replaceFirst("^Assumption failed: ", ""); // each test reports the skip, with the reason
            return;
        }
        ServeSettings s = ServeSettings.forTests(Shared.model("stories260K/stories260K.bin"))
                .withNames(List.of(MODEL, "stories"))
                .withEngine(new EngineConfig(MAX_NUM_SEQS, 512, 64L << 20, true))
                .withMaxQueue(MAX_QUEUE);
        server = BasaltServer.start(s);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    @AfterEach
    void theEngineIsIdleAgain() throws InterruptedException {
        if (server == null) return;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        EngineStats s = server.engine().stats();
        while (System.nanoTime() < deadline) {
            s = server.engine().stats();
            if (s.kvUsedBlocks() == 0 && s.numLiveKvSequences() == 0 && s.numRunning() == 0 && s.numWaiting() == 0
                    && server.service().inFlight() == 0) {
                break;
            }
            Thread.sleep(20);
        }
        assertEquals(0, server.service().inFlight(), "requests still in flight");
        assertEquals(0, s.numRunning(), "sequences still running: " + s);
        assertEquals(0, s.numWaiting(), "sequences still waiting: " + s);
        assertEquals(0, s.kvUsedBlocks(), "KV blocks still held: " + s);
        assertEquals(0, s.numLiveKvSequences(), "live KV sequences: " + s);
    }

    static String api() { return server.baseUrl() + "/v1"; }

    static void runScript(String script, String... args) throws IOException {
        Assumptions.assumeTrue(skipped == null, skipped);
        String[] all = new String[args.length + 2];
        all[0] = api();
        all[1] = MODEL;
        System.arraycopy(args, 0, all, 2, args.length);
        NodeScripts.Result r = NodeScripts.node(e2e, SCRIPT_LIMIT, script, all);
        System.out.printf("[e2e] %s took %.1f s%n", script, r.took().toMillis() / 1e3);
        if (r.exitCode() != 0) fail(script + " exited with " + r.exitCode() + ":\n" + r.output());
    }

    /** The engine's own greedy answer: the HTTP layer must return exactly this text. */
    static String engineGreedy(String prompt, int maxTokens) {
        Assumptions.assumeTrue(skipped == null, skipped);
        int[] ids = server.model().encodePrompt(prompt);
        return server.engine().submit(new EngineRequest("e2e-reference", ids, SamplingParams.greedy(maxTokens), 0))
                .result().join().choices().getFirst().text();
    }

    @Test
    @Order(1)
    void officialSdkChatAndCompletions() throws IOException {
        runScript("openai/sdk.mjs", engineGreedy("Once upon a time", 32));
    }

    @Test
    @Order(2)
    void overloadGets429QuicklyAndEveryAcceptedStreamCompletes() throws IOException {
        runScript("openai/overload.mjs", "200", Integer.toString(MAX_NUM_SEQS + MAX_QUEUE)); // 429s before any stream completes
    }

    @Test
    @Order(3)
    void clientsThatDisconnectLeaveNothingBehind() throws IOException {
        Assumptions.assumeTrue(skipped == null, skipped);
        long before = server.engine().stats().numGeneratedTokens();
        runScript("openai/disconnects.mjs", "100", "1");
        System.out.printf("[e2e] disconnects: the engine generated %d tokens for 100 clients asking up to 400 each%n",
                server.engine().stats().numGeneratedTokens() - before);
    }

    @Test
    @Order(4)
    void structuredOutputsThroughTheSdk() throws IOException {
        Assumptions.assumeTrue(skipped == null, skipped);
        // stories260K never closes a free JSON string by itself: the json_object requests lean toward '}' and '"'.
        StringBuilder bias = new StringBuilder("{");
        io.basalt.testing.JsonClosers.bias(server.model().tokenizer()).forEach((id, b) ->
                bias.append(bias.length() > 1 ? "," : "").append('"').append(id).append("\":").append(b.intValue()));
        runScript("openai/structured.mjs", bias.append('}').toString());
    }
}
