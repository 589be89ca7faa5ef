package io.basalt.bench.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees when requests fail: the server's own message for each kind of error on stderr
 * (not only in the results file), exit 0 when some requests succeeded, exit 1 with one closing
 * "basalt: ..." line when none did, and no measured run at all when the warm-up already failed.
 */
class FailedRequestsTest {
    record Outcome(int rc, String out, String err) {
        List<String> errLines() { return err.strip().lines().toList(); }
    }

    static Outcome bench(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = BenchCli.execute(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Outcome(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String[] args(String base, String... more) {
        List<String> a = new ArrayList<>(List.of(more));
        a.addAll(1, List.of("--base-url", base, "--no-progress"));
        if (a.getFirst().equals("serve")) a.addAll(1, List.of("--request-rate", "inf"));
        return a.toArray(String[]::new);
    }

    private static Path prompts(Path dir, String... lines) throws Exception {
        Path f = dir.resolve("p.jsonl");
        StringBuilder b = new StringBuilder();
        for (String l : lines) b.append("{\"prompt\": \"").append(l).append("\"}\n");
        Files.writeString(f, b);
        return f;
    }

    @Test
    void someFailedIsExit0WithTheServersMessageOnStderr(@TempDir Path dir) throws Exception {
        Path data = prompts(dir, "ok one two", "fail-500 a", "ok three");
        try (FakeOpenAiServer server = new FakeOpenAiServer()) {
            Outcome o = bench(args(server.baseUrl(), "serve", "--model", "fake", "--dataset", "jsonl", "--dataset-path", data.toString(),
                    "--output-len", "3", "--num-prompts", "6", "--warmup", "1", "--out", dir.resolve("r.json").toString()));
            assertEquals(0, o.rc(), o.err());
            assertTrue(o.out().matches("(?s).*\\nSuccessful requests: +4\\n.*"), o.out());
            assertEquals(List.of("basalt: 2 of 6 requests failed (first message of each kind):", "  http_500 (2 requests): scripted failure"),
                    o.errLines());
        }
    }

    @Test
    void noneSucceededIsExit1AfterTheTableAndTheResults(@TempDir Path dir) throws Exception {
        Path data = prompts(dir, "fail-500 a", "truncated b");
        Path json = dir.resolve("r.json");
        try (FakeOpenAiServer server = new FakeOpenAiServer()) {
            Outcome o = bench(args(server.baseUrl(), "serve", "--model", "fake", "--dataset", "jsonl", "--dataset-path", data.toString(),
                    "--num-prompts", "5", "--warmup", "0", "--out", json.toString()));
            assertEquals(1, o.rc(), o.err());
            assertTrue(o.out().contains("Serving Benchmark Result") && o.out().contains("results: " + json), o.out());
            assertEquals(List.of("basalt: errors (first message of each kind):",
                    "  http_500 (3 requests): scripted failure",
                    "  bad_stream (2 requests): the stream ended before data: [DONE]",
                    "basalt: no request succeeded (5 failed)"), o.errLines());
            assertEquals(Map.of("http_500", 3, "bad_stream", 2), BenchResult.read(json).summary().errors(), "the results are still written");
        }
    }

    @Test
    void failedWarmupStopsBeforeTheMeasuredRun() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer()) {
            Outcome o = bench(args(server.baseUrl(), "serve", "--model", "wrong", "--dataset", "random", "--tokenizer", "gpt2",
                    "--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "50", "--warmup", "2"));
            assertEquals(1, o.rc(), o.err());
            assertEquals(2, server.requests.get(), "the two warm-ups, nothing more");
            assertEquals("", o.out());
            assertEquals(List.of("basalt: errors (first message of each kind):",
                    "  http_404 (2 requests): The model 'wrong' does not exist",
                    "basalt: all 2 warm-up requests failed, so nothing was measured"), o.errLines());
        }
    }

    @Test
    void sweepReportsEachPointsErrorsAndExits1WhenAPointHadNoSuccess(@TempDir Path dir) throws Exception {
        Path data = prompts(dir, "fail-500 a");
        try (FakeOpenAiServer server = new FakeOpenAiServer()) {
            Outcome o = bench(args(server.baseUrl(), "sweep", "--model", "fake", "--dataset", "jsonl", "--dataset-path", data.toString(),
                    "--num-prompts", "2", "--warmup", "0", "--rates", "5,inf", "--out-dir", dir.resolve("sweep").toString()));
            assertEquals(1, o.rc(), o.err());
            assertTrue(o.err().contains("basalt: rate=5: 2 of 2 requests failed (first message of each kind):\n  http_500 (2 requests): scripted failure"),
                    o.err());
            assertTrue(o.err().contains("basalt: rate=inf: 2 of 2 requests failed"), o.err());
            assertEquals("basalt: no request succeeded at rate=5, rate=inf (every point of the sweep)", o.errLines().getLast());
            assertFalse(o.out().contains("saturates"), "no saturation claimed from zero throughput: " + o.out());
            assertTrue(Files.isRegularFile(dir.resolve("sweep/summary.json")));
        }
    }

    @Test
    void sweepStopsAtAPointWhoseWarmupFailed(@TempDir Path dir) throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer()) {
            Outcome o = bench(args(server.baseUrl(), "sweep", "--model", "wrong", "--dataset", "random", "--tokenizer", "gpt2",
                    "--random-input-len", "8", "--random-output-len", "4", "--num-prompts", "5", "--concurrencies", "1,2",
                    "--out-dir", dir.resolve("sweep").toString()));
            assertEquals(1, o.rc(), o.err());
            assertEquals(1, server.requests.get(), "one warm-up, then the sweep stopped");
            assertEquals("basalt: sweep point concurrency=1: the warm-up request failed, so nothing was measured", o.errLines().getLast());
            assertTrue(o.err().contains("  http_404 (1 request): The model 'wrong' does not exist"), o.err());
        }
    }
}
