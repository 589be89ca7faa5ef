package io.basalt.bench.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The instrument against a scripted server ({@link FakeOpenAiServer}): every timestamp the client
 * takes is compared with when the server (same JVM, same clock) really flushed that chunk. A chunk
 * cannot be received before it was sent, and on loopback it arrives within {@link #SLACK_MS}; so
 * each receive − send lies in [0, SLACK_MS], TTFT and E2E exceed the server's own by that much at
 * most, and every ITL is the server's gap ± SLACK_MS. Token and error counts must be exact.
 * The slack is generous on purpose (typically the difference is well under a millisecond): it
 * catches an instrument that stamps the wrong event (buffered lines, the end of the stream), not
 * scheduler noise on a busy 2-core machine.
 */
class InstrumentTest {
    static final double SLACK_MS = 200;
    static final double EPS_MS = 1e-3; // the records' doubles, added back up

    @Test
    void timingsTokensAndErrorsMatchWhatTheServerDid() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer();
             StreamClient client = new StreamClient(server.baseUrl() + "/v1", "fake", Endpoint.COMPLETIONS, "", Duration.ofMillis(600),
                     true, 0, null)) {
            List<Prompt> prompts = new ArrayList<>();
            for (int i = 0; i < 12; i++) prompts.add(new Prompt("ok " + i + " with some words", -1, 4 + i % 5));
            prompts.add(new Prompt("fail-500 a", -1, 8));
            prompts.add(new Prompt("fail-500 b", -1, 8));
            prompts.add(new Prompt("truncated one", -1, 8));
            prompts.add(new Prompt("garbage one", -1, 8));
            prompts.add(new Prompt("disconnect one", -1, 8));
            prompts.add(new Prompt("stall one", -1, 8));
            LoadRunner.Plan plan = new LoadRunner.Plan(Double.POSITIVE_INFINITY, 1, 7, 4, 2, LoadRunner.TokenSource.USAGE);
            List<Integer> countedAtWarmupEnd = new ArrayList<>();
            LoadRunner.Run run = LoadRunner.run(client, prompts, null, plan, LoadRunner.Progress.NONE,
                    () -> countedAtWarmupEnd.add(server.requests.get()));

            assertEquals(List.of(2), countedAtWarmupEnd, "the two warm-ups finish before the measured run starts");
            assertEquals(prompts.size() + 2, server.requests.get());
            assertEquals(prompts.size(), run.records().size(), "warm-ups are not recorded");

            for (RequestRecord r : run.records()) {
                Prompt p = prompts.get(r.index());
                FakeOpenAiServer.Truth t = server.truth.get(p.text());
                assertNotNull(t, p.text());
                assertTrue(t.body.path("stream").asBoolean() && t.body.path("stream_options").path("include_usage").asBoolean());
                assertTrue(t.body.path("ignore_eos").asBoolean());
                long start = run.t0Nanos() + Math.round(r.startS() * 1e9);
                assertTrue(start <= t.received + 1000, "the request was sent before the server got it");
                // every text chunk: received after the server flushed it, and not much later
                double[] recv = receiveTimesMs(r);
                assertEquals(t.tokenFlushed.size(), recv.length, p.text() + ": one timestamp per text chunk");
                for (int k = 0; k < recv.length; k++) {
                    double sinceWrite = recv[k] - (t.tokenWriting.get(k) - start) / 1e6, sinceFlush = recv[k] - (t.tokenFlushed.get(k) - start) / 1e6;
                    assertTrue(sinceWrite >= -EPS_MS && sinceFlush <= SLACK_MS,
                            p.text() + " chunk " + k + " received " + sinceWrite + " ms after its write began, " + sinceFlush + " after its flush");
                }
                if (recv.length > 0) {
                    double serverTtft = (t.tokenWriting.getFirst() - t.received) / 1e6;
                    assertTrue(r.ttftMs() - serverTtft >= -EPS_MS && r.ttftMs() - serverTtft <= SLACK_MS, "TTFT " + r.ttftMs() + " vs " + serverTtft);
                    assertTrue(r.ttftMs() >= FakeOpenAiServer.FIRST_TOKEN_MS, "the first token is scripted at 50 ms");
                    for (int k = 0; k < r.itlMs().length; k++) {
                        double serverGap = (t.tokenFlushed.get(k + 1) - t.tokenFlushed.get(k)) / 1e6;
                        assertTrue(Math.abs(r.itlMs()[k] - serverGap) <= SLACK_MS, "ITL " + r.itlMs()[k] + " vs " + serverGap);
                        assertTrue(serverGap >= FakeOpenAiServer.TOKEN_GAP_MS - EPS_MS);
                    }
                }
                String kind = p.text().split(" ")[0];
                switch (kind) {
                    case "ok" -> {
                        assertNull(r.error(), p.text() + ": " + r.errorDetail());
                        assertEquals(p.outputTokens(), r.outputTokens());
                        assertEquals(p.outputTokens(), r.usageCompletionTokens());
                        assertEquals(FakeOpenAiServer.words(p.text()), r.promptTokens());
                        assertEquals(p.outputTokens(), r.chunks());
                        assertEquals(p.outputTokens() - 1, r.itlMs().length);
                        double sinceWrite = r.e2eMs() - (t.doneWriting - start) / 1e6, sinceFlush = r.e2eMs() - (t.doneFlushed - start) / 1e6;
                        assertTrue(sinceWrite >= -EPS_MS && sinceFlush <= SLACK_MS, "E2E ends " + sinceWrite + " ms after the server's [DONE]");
                        assertEquals((r.e2eMs() - r.ttftMs()) / (r.outputTokens() - 1), r.tpotMs(), 1e-9);
                    }
                    case "fail-500" -> assertEquals("http_500", r.error());
                    case "truncated", "garbage" -> assertEquals("bad_stream", r.error(), r.errorDetail());
                    case "disconnect" -> assertEquals("connection", r.error(), r.errorDetail());
                    case "stall" -> {
                        assertEquals("timeout", r.error(), r.errorDetail());
                        assertTrue(r.e2eMs() >= 600 - EPS_MS, "a timeout is not declared early");
                    }
                    default -> throw new AssertionError(kind);
                }
            }

            Summary s = Summary.of(run.records(), run.durationS(), "usage", List.of(50.0, 90.0, 99.0), Slo.parse("ttft:10s"));
            assertEquals(12, s.completed());
            assertEquals(6, s.failed());
            assertEquals(Map.of("http_500", 2, "bad_stream", 2, "connection", 1, "timeout", 1), s.errors());
            long out = 0, in = 0;
            for (int i = 0; i < 12; i++) { out += prompts.get(i).outputTokens(); in += FakeOpenAiServer.words(prompts.get(i).text()); }
            assertEquals(out, s.totalOutputTokens());
            assertEquals(in, s.totalInputTokens());
            double lastEnd = run.records().stream().mapToDouble(RequestRecord::endS).max().orElseThrow();
            assertEquals(lastEnd, s.durationS(), 1e-12);
            assertEquals(out / lastEnd, s.outputThroughput(), 1e-9);
            assertEquals((in + out) / lastEnd, s.totalTokenThroughput(), 1e-9);
            assertEquals(12 / lastEnd, s.requestThroughput(), 1e-9);
            assertEquals(12 / lastEnd, s.goodput(), 1e-9, "every success meets a 10 s TTFT");
            assertTrue(s.peakConcurrency() >= 2 && s.peakConcurrency() <= 4, "peak " + s.peakConcurrency() + " within --max-concurrency 4");
            long itlCount = run.records().stream().filter(RequestRecord::ok).mapToLong(r -> r.itlMs().length).sum();
            assertEquals(itlCount, s.itlMs().n());
            List<Double> serverGaps = new ArrayList<>();
            for (RequestRecord r : run.records()) {
                if (!r.ok()) continue;
                List<Long> f = server.truth.get(prompts.get(r.index()).text()).tokenWriting;
                for (int k = 1; k < f.size(); k++) serverGaps.add((f.get(k) - f.get(k - 1)) / 1e6);
            }
            double serverMean = serverGaps.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            assertTrue(Math.abs(s.itlMs().mean() - serverMean) <= SLACK_MS, "mean ITL " + s.itlMs().mean() + " vs the server's " + serverMean);
        }
    }

    /** Arrival offsets are honoured: nothing is sent before it is due. */
    @Test
    void poissonArrivalsAreNotSentEarly() throws Exception {
        try (FakeOpenAiServer server = new FakeOpenAiServer();
             StreamClient client = new StreamClient(server.baseUrl(), "fake", Endpoint.COMPLETIONS, "", Duration.ZERO, false, 0, null)) {
            List<Prompt> prompts = new ArrayList<>();
            for (int i = 0; i < 8; i++) prompts.add(new Prompt("ok " + i, -1, 2));
            LoadRunner.Plan plan = new LoadRunner.Plan(40, 1, 3, 0, 0, LoadRunner.TokenSource.USAGE);
            LoadRunner.Run run = LoadRunner.run(client, prompts, null, plan, LoadRunner.Progress.NONE, () -> { });
            double[] due = Arrivals.offsets(8, 40, 1, 3);
            for (RequestRecord r : run.records()) {
                assertEquals(due[r.index()], r.scheduledS(), 0);
                assertTrue(r.startS() >= r.scheduledS(), "sent at " + r.startS() + " before due " + r.scheduledS());
                assertTrue(r.ok(), r.errorDetail());
                assertFalse(server.truth.get(prompts.get(r.index()).text()).body.has("ignore_eos"), "ignore_eos only when asked");
            }
            assertEquals(8 / 40.0, due[7], 1e-12, "the last arrival is rescaled to N/rate");
        }
    }

    /** The command line end to end: JSON results with configuration and raw records, the table, exit codes. */
    @Test
    void cliWritesResultsAndTable(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("prompts.jsonl");
        Files.writeString(data, """
                {"prompt": "ok alpha beta", "output_tokens": 3}
                {"prompt": "ok gamma", "max_tokens": 5}
                {"prompt": "fail-500 please"}
                """);
        try (FakeOpenAiServer server = new FakeOpenAiServer()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            Path json = dir.resolve("r.json");
            int rc = BenchCli.execute(new String[] {"serve", "--base-url", server.baseUrl(), "--model", "fake", "--dataset", "jsonl",
                    "--dataset-path", data.toString(), "--output-len", "4", "--num-prompts", "6", "--request-rate", "inf",
                    "--max-concurrency", "3", "--warmup", "0", "--label", "fake-gpu", "--slo", "ttft:500ms,tpot:50ms", "--percentiles",
                    "50,99.9", "--out", json.toString(), "--no-progress"}, new PrintStream(out, true), new PrintStream(err, true));
            assertEquals(0, rc, err.toString());
            String table = out.toString(StandardCharsets.UTF_8);
            assertTrue(table.contains("Serving Benchmark Result") && table.contains("P99.9 TTFT (ms):") && table.contains("http_500:"), table);
            BenchResult r = BenchResult.read(json);
            assertEquals("fake-gpu", r.label());
            assertEquals(6, r.requests().size());
            assertEquals(4, r.summary().completed());
            assertEquals(Map.of("http_500", 2), r.summary().errors());
            assertEquals(2 * (3 + 5), r.summary().totalOutputTokens());
            assertEquals("inf", r.config().get("request_rate"));
            assertEquals(3, r.config().get("max_concurrency"));
            assertEquals("ttft:500ms,tpot:50ms", r.config().get("slo"));
            assertNotNull(r.environment().get("java"));
            assertNull(r.server(), "the fake server has no /metrics");
            assertEquals(6, server.requests.get());
        }
    }

    @Test
    void badInputIsOneLineAndExit2(@TempDir Path dir) {
        for (String[] args : new String[][] {
                {"serve", "--base-url", "http://127.0.0.1:1", "--model", "m", "--request-rate", "fast"},
                {"serve", "--base-url", "http://127.0.0.1:1", "--model", "m", "--slo", "ttft=5"},
                {"serve", "--base-url", "http://127.0.0.1:1", "--model", "m", "--dataset", "jsonl"},
                {"serve", "--base-url", "http://127.0.0.1:1", "--model", "m"}, // random needs a tokenizer
                {"serve", "--model", "m"},
                {"compare", dir.resolve("missing.json").toString()},
                {"sweep", "--base-url", "http://127.0.0.1:1", "--model", "m", "--out-dir", dir.toString()}}) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = BenchCli.execute(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true));
            String e = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, rc, String.join(" ", args) + " -> " + e);
            assertTrue(e.startsWith("basalt: ") && e.strip().lines().count() == 1, e);
        }
    }

    @Test
    void unreachableServerIsAConnectionError() {
        try (StreamClient client = new StreamClient("http://127.0.0.1:1", "m", Endpoint.COMPLETIONS, "", Duration.ZERO, false, 0, null)) {
            StreamClient.Exchange x = client.send("hello", 4);
            assertEquals("connection", x.error(), x.errorDetail());
        }
    }

    /** Absolute receive times of a record's text chunks, in ms from its start, rebuilt from TTFT and the ITLs. */
    private static double[] receiveTimesMs(RequestRecord r) {
        if (r.ttftMs() == null) return new double[0];
        double[] t = new double[r.itlMs().length + 1];
        t[0] = r.ttftMs();
        for (int i = 0; i < r.itlMs().length; i++) t[i + 1] = t[i] + r.itlMs()[i];
        return t;
    }
}
