package io.basalt.bench.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.server.BasaltServer;
import io.basalt.testing.Shared;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench serve} against the real server in-process on stories260K: every request generates
 * exactly max_tokens (ignore_eos), and the client's token totals equal the server's own /metrics
 * counters exactly — both the view the tool scrapes itself (after its warm-up) and one taken by
 * this test around the whole command (which also saw the warm-up, a repeat of request 0).
 */
class RealServerTest {
    @Test
    void tokenCountsEqualTheServersMetrics(@TempDir Path dir) {
        java.util.logging.Logger.getLogger("basalt.requests").setLevel(java.util.logging.Level.WARNING);
        Path model = Shared.model("stories260K/stories260K.bin");
        try (BasaltServer server = BasaltServer.start(BasaltServer.Settings.forTests(model))) {
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
            assertNotNull(seen, "the tool scraped basalt: metrics");
            assertEquals("basalt:", seen.prefix());
            assertEquals(12, seen.requests());
            assertEquals(s.totalInputTokens(), seen.promptTokens());
            assertEquals(s.totalOutputTokens(), seen.generationTokens());
            assertTrue(seen.ttftMeanMs() > 0 && seen.itlMeanMs() > 0 && seen.e2eMeanMs() > 0);

            RequestRecord first = r.requests().stream().filter(x -> x.index() == 0).findFirst().orElseThrow();
            assertEquals(13, whole.requests(), "12 measured + 1 warm-up");
            assertEquals(s.totalInputTokens() + first.promptTokens(), whole.promptTokens());
            assertEquals(s.totalOutputTokens() + first.outputTokens(), whole.generationTokens());
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("Server /metrics (basalt: delta)"));
        }
    }
}
