package io.basalt.bench.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.Shared;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench serve} against the real server in-process on stories260K: every request generates
 * exactly max_tokens (ignore_eos), and the client's token totals equal the server's own /metrics
 * counters exactly — both the view the tool scrapes itself (after its warm-up) and one taken by
 * this test around the whole command (which also saw the warm-up, a repeat of request 0). Also:
 * prompts built with the server's /tokenize when no --tokenizer is given, and what a wrong model
 * name or a too long prompt looks like.
 */
class RealServerTest {
    static BasaltServer server;

    @BeforeAll
    static void start() {
        java.util.logging.Logger.getLogger("basalt.requests").setLevel(java.util.logging.Level.WARNING);
        server = BasaltServer.start(ServeSettings.forTests(Shared.model("stories260K/stories260K.bin")));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    @Test
    void tokenCountsEqualTheServersMetrics(@TempDir Path dir) {
        String base = server.baseUrl();
        Map<String, Double> before = ServerMetricsView.scrape(base, "");
        Path json = dir.resolve("r.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = BenchCli.execute(new String[] {"serve", "--base-url", base, "--model", server.model().id(), "--dataset", "random",
                "--tokenizer", Shared.model("stories260K/tok512.bin").toString(), "--token-source", "usage",
                "--random-input-len", "24", "--random-output-len", "16", "--random-range-ratio", "0.5", "--num-prompts", "12",
                "--request-rate", "inf", "--max-concurrency", "4", "--ignore-eos", "--warmup", "1", "--seed", "3",
                "--out", json.toString(), "--no-progress"}, new PrintStream(out, true), new PrintStream(err, true));
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        ServerMetricsView whole = ServerMetricsView.delta(before, ServerMetricsView.scrape(base, ""));

        BenchResult r = BenchResult.read(json);
        Summary s = r.summary();
        assertEquals(12, s.completed(), () -> r.requests().stream().map(RequestRecord::errorDetail).toList().toString());
        List<Prompt> prompts = new Dataset.RandomLengths(24, 16, 0.5).prompts(12, 3,
                BenchTokenizer.load(Shared.model("stories260K/tok512.bin").toString()));
        for (RequestRecord rec : r.requests()) {
            Prompt p = prompts.get(rec.index());
            assertEquals(p.outputTokens(), rec.outputTokens(), "ignore_eos: exactly max_tokens");
            assertTrue(p.promptTokens() >= 12 && p.promptTokens() <= 36, "random length within the range: " + p.promptTokens());
            assertEquals(p.promptTokens() + 1, rec.usagePromptTokens(), "the server's count is the prompt plus BOS");
        }

        ServerMetricsView seen = r.server();
        assertNotNull(seen, "the tool scraped the server's metrics");
        assertTrue(List.of("basalt:", "vllm:").contains(seen.prefix()), seen.prefix());
        assertEquals(12, seen.requests());
        assertEquals(s.totalInputTokens(), seen.promptTokens());
        assertEquals(s.totalOutputTokens(), seen.generationTokens());
        assertTrue(seen.ttftMeanMs() > 0 && seen.itlMeanMs() > 0 && seen.e2eMeanMs() > 0);

        RequestRecord first = r.requests().stream().filter(x -> x.index() == 0).findFirst().orElseThrow();
        assertEquals(13, whole.requests(), "12 measured + 1 warm-up");
        assertEquals(s.totalInputTokens() + first.promptTokens(), whole.promptTokens());
        assertEquals(s.totalOutputTokens() + first.outputTokens(), whole.generationTokens());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("Server /metrics (" + seen.prefix() + " delta)"));
    }

    /** Issue 16's report: a wrong --model was exit 0 with only "http_404: 5" and a table of "-". */
    @Test
    void wrongModelIsExit1WithTheServersMessage() {
        FailedRequestsTest.Outcome o = FailedRequestsTest.bench("serve", "--base-url", server.baseUrl(), "--model", "wrong",
                "--tokenizer", Shared.model("stories260K/tok512.bin").toString(), "--num-prompts", "2", "--no-progress");
        assertEquals(1, o.rc(), o.err());
        assertEquals(List.of("basalt: errors (first message of each kind):", "  http_404 (1 request): The model 'wrong' does not exist",
                "basalt: the warm-up request failed, so nothing was measured"), o.errLines());
    }

    /** No --tokenizer: the random prompts come from the server's /tokenize and /detokenize, of the asked lengths exactly. */
    @Test
    void withoutTokenizerThePromptsComeFromTheServersTokenize(@TempDir Path dir) {
        Path json = dir.resolve("r.json");
        FailedRequestsTest.Outcome o = FailedRequestsTest.bench("serve", "--base-url", server.baseUrl() + "/v1", "--model", server.model().id(),
                "--random-input-len", "24", "--random-output-len", "4", "--random-range-ratio", "0.5", "--num-prompts", "12", "--ignore-eos",
                "--seed", "5", "--out", json.toString(), "--no-progress");
        assertEquals(0, o.rc(), o.err());
        assertEquals(List.of("basalt: no --tokenizer: the random prompts were built with the server's /tokenize and /detokenize (exact "
                + "lengths); tokens are counted from its usage"), o.errLines());
        BenchResult r = BenchResult.read(json);
        assertEquals(12, r.summary().completed());
        assertEquals("server /tokenize", r.config().get("prompt_text"));
        List<Prompt> asked = PromptsWithoutTokenizerTest.asked(new Dataset.RandomLengths(24, 4, 0.5), 12, 5);
        int exact = 0;
        for (RequestRecord rec : r.requests()) {
            int len = rec.usagePromptTokens() - 1, want = asked.get(rec.index()).promptTokens(); // the server adds BOS
            assertTrue(Math.abs(len - want) <= 1, "request " + rec.index() + ": " + len + " tokens for " + want);
            if (len == want) exact++;
            assertEquals(asked.get(rec.index()).outputTokens(), rec.outputTokens(), "ignore_eos: exactly max_tokens");
        }
        assertTrue(exact >= 11, exact + " of 12 prompts of exactly the asked length");
    }

    /** Prompts past the model's context: a warning before the run, then the server's own refusal. */
    @Test
    void promptsPastTheContextAreWarnedAboutAndTheRefusalShown() {
        FailedRequestsTest.Outcome o = FailedRequestsTest.bench("serve", "--base-url", server.baseUrl(), "--model", server.model().id(),
                "--random-input-len", "600", "--random-output-len", "4", "--num-prompts", "2", "--no-progress");
        assertEquals(1, o.rc(), o.err());
        List<String> lines = o.errLines();
        assertEquals("basalt: warning: 2 of 2 prompts plus their output (up to 604 tokens) exceed the server's max_model_len 512; "
                + "the server will refuse them", lines.get(1));
        assertTrue(lines.get(3).startsWith("  http_400 (1 request): This model's maximum context length is 512 tokens"), o.err());
        assertEquals("basalt: the warm-up request failed, so nothing was measured", lines.getLast());
    }
}
