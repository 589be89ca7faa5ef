package io.basalt.bench.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** The pieces without a server: arrivals, statistics, SLOs, datasets, /metrics parsing, compare and its plots. */
class PartsTest {
    @Test
    void arrivalsArePoissonOrGammaRescaledAndSeeded() {
        double[] a = Arrivals.offsets(20000, 50, 1, 1);
        assertEquals(20000 / 50.0, a[a.length - 1], 1e-9, "rescaled so the last arrival is at N/rate");
        double[] gaps = new double[a.length];
        for (int i = 0; i < a.length; i++) gaps[i] = a[i] - (i == 0 ? 0 : a[i - 1]);
        double mean = Arrays.stream(gaps).average().orElseThrow(), var = Arrays.stream(gaps).map(g -> (g - mean) * (g - mean)).sum() / gaps.length;
        assertEquals(0.02, mean, 1e-6);
        assertEquals(1, var / (mean * mean), 0.05, "exponential gaps: coefficient of variation 1");
        double[] bursty = Arrivals.offsets(20000, 50, 0.25, 1);
        double cv2 = cv2(bursty);
        assertEquals(4, cv2, 0.4, "gamma shape 0.25: squared CV 1/shape");
        assertTrue(cv2(Arrivals.offsets(20000, 50, 4, 1)) < 0.3, "shape 4 is more regular");
        assertEquals(Arrays.toString(Arrivals.offsets(50, 3, 1, 9)), Arrays.toString(Arrivals.offsets(50, 3, 1, 9)));
        assertNotEquals(Arrays.toString(Arrivals.offsets(50, 3, 1, 9)), Arrays.toString(Arrivals.offsets(50, 3, 1, 10)));
        assertTrue(Arrays.stream(Arrivals.offsets(10, Double.POSITIVE_INFINITY, 1, 0)).allMatch(v -> v == 0), "inf: all at once");
        assertThrows(IllegalArgumentException.class, () -> Arrivals.offsets(3, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Arrivals.offsets(3, 1, -1, 0));
    }

    private static double cv2(double[] a) {
        double[] g = new double[a.length];
        for (int i = 0; i < a.length; i++) g[i] = a[i] - (i == 0 ? 0 : a[i - 1]);
        double m = Arrays.stream(g).average().orElseThrow();
        return Arrays.stream(g).map(x -> (x - m) * (x - m)).sum() / g.length / (m * m);
    }

    @Test
    void percentilesInterpolateLikeNumpy() {
        Stats s = Stats.of(new double[] {4, 1, 3, 2, 10}, List.of(50.0, 90.0, 99.0, 99.9));
        assertEquals(5, s.n());
        assertEquals(4, s.mean(), 1e-12);
        assertEquals(3, s.median(), 1e-12);
        assertEquals(7.6, s.percentile(90), 1e-12); // rank 3.6: 4 + 0.6·6
        assertEquals(9.76, s.percentile(99), 1e-12);
        assertEquals(Math.sqrt(10), s.std(), 1e-12);
        assertEquals(Set.of("p50", "p90", "p99", "p99.9"), s.percentiles().keySet());
        assertTrue(Double.isNaN(Stats.of(new double[0], List.of(99.0)).mean()));
    }

    @Test
    void sloParsesAndJudges() {
        Slo slo = Slo.parse("ttft:500ms, tpot:0.05s,e2el:2s");
        assertEquals(Map.of("ttft", 500.0, "tpot", 50.0, "e2e", 2000.0), slo.limitsMs());
        assertEquals("ttft:500ms,tpot:50ms,e2e:2000ms", slo.toString());
        RequestRecord fast = record(0, 0, 100.0, 1000, 11, null);  // TPOT 90 ms
        RequestRecord ok = record(0, 0, 400.0, 800, 11, null);     // TPOT 40 ms
        assertTrue(!slo.met(fast) && slo.met(ok));
        assertTrue(!slo.met(record(0, 0, 10.0, 20, 2, "http_500")), "a failure never counts");
        assertThrows(IllegalArgumentException.class, () -> Slo.parse("ttft"));
        assertThrows(IllegalArgumentException.class, () -> Slo.parse("latency:5ms"));
        assertThrows(IllegalArgumentException.class, () -> Slo.parse("ttft:-5ms"));
    }

    @Test
    void summaryCountsAndPeakConcurrency() {
        List<RequestRecord> rs = List.of(record(0.0, 0, 10.0, 100, 5, null), record(0.05, 1, 10.0, 100, 3, null),
                record(0.2, 2, 10.0, 100, 0, "timeout"));
        Summary s = Summary.of(rs, 0.3, "usage", List.of(99.0), Slo.parse("e2e:1s"));
        assertEquals(2, s.completed());
        assertEquals(Map.of("timeout", 1), s.errors());
        assertEquals(8, s.totalOutputTokens());
        assertEquals(8 / 0.3, s.outputThroughput(), 1e-9);
        assertEquals(2 / 0.3, s.goodput(), 1e-9);
        assertEquals(2, s.peakConcurrency(), "requests 0 and 1 overlap; 2 starts when 0 has ended");
        assertNull(Summary.of(rs, 0.3, "usage", List.of(99.0), Slo.NONE).goodput());
    }

    private static RequestRecord record(double startS, int index, Double ttft, double e2e, int out, String error) {
        return new RequestRecord(index, startS, startS, 10, out, 10, out, out, ttft, e2e, new double[] {1, 2}, error, null);
    }

    @Test
    void randomPromptsHaveTheAskedLengthInTokens() {
        for (Tokenizer tok : List.of(BenchTokenizer.load(Shared.model("stories260K/tok512.bin").toString()), BenchTokenizer.load("gpt2"))) {
            RandomText text = new RandomText(tok);
            SplittableRandom random = new SplittableRandom(5);
            int exact = 0;
            for (int n = 1; n <= 60; n++) {
                String t = text.text(random, n).text();
                if (text.count(t) == n) exact++;
            }
            assertTrue(exact >= 58, tok.getClass().getSimpleName() + ": " + exact + "/60 prompts of the asked length");
        }
        Tokenizer tok = BenchTokenizer.load(Shared.model("stories260K").toString());
        List<Prompt> a = new Dataset.RandomLengths(32, 8, 0.25).prompts(40, 11, tok), b = new Dataset.RandomLengths(32, 8, 0.25).prompts(40, 11, tok);
        assertEquals(a, b, "same seed, same prompts");
        assertTrue(a.stream().allMatch(p -> p.promptTokens() >= 24 && p.promptTokens() <= 40 && p.outputTokens() >= 6 && p.outputTokens() <= 10));
        assertTrue(a.stream().map(Prompt::promptTokens).distinct().count() > 5, "lengths vary within the range");
        assertThrows(IllegalArgumentException.class, () -> new Dataset.RandomLengths(32, 8, 0).prompts(3, 0, (Tokenizer) null), "needs a tokenizer");
    }

    @Test
    void prefixRepetitionSharesPrefixes() {
        Tokenizer tok = BenchTokenizer.load("gpt2");
        List<Prompt> ps = new Dataset.PrefixRepetition(40, 10, 3, 7).prompts(12, 2, tok);
        assertEquals(12, ps.size());
        Set<String> prefixes = new HashSet<>();
        for (Prompt p : ps) {
            prefixes.add(tok.decode(Arrays.copyOf(tok.encode(p.text()), 30)));
            assertEquals(7, p.outputTokens());
            assertTrue(Math.abs(p.promptTokens() - 50) <= 2, "prefix + suffix ≈ 50 tokens: " + p.promptTokens());
        }
        assertEquals(3, prefixes.size(), "three distinct prefixes, each shared by four requests");
    }

    @Test
    void jsonlAndShareGptFiles(@TempDir Path dir) throws Exception {
        Path jsonl = dir.resolve("p.jsonl");
        Files.writeString(jsonl, "{\"prompt\": \"hello there\", \"output_tokens\": 9}\n\n{\"text\": \"second\"}\n");
        List<Prompt> ps = new Dataset.Jsonl(jsonl, 5).prompts(5, 0, null);
        assertEquals(List.of(9, 5, 9, 5, 9), ps.stream().map(Prompt::outputTokens).toList());
        assertEquals(-1, ps.getFirst().promptTokens());
        Files.writeString(jsonl, "{\"prompt\": 5}\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Dataset.Jsonl(jsonl, 5).prompts(1, 0, null))
                .getMessage().contains("line 1"));

        Path share = dir.resolve("sg.json");
        Files.writeString(share, """
                [{"id": "a", "conversations": [{"from": "human", "value": "Tell me a story about a small dog and a big cat."},
                                               {"from": "gpt", "value": "Once upon a time there was a small dog who lived next to a big cat."}]},
                 {"id": "b", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]},
                 {"id": "c", "conversations": [{"from": "human", "value": "only one turn"}]}]
                """);
        Tokenizer tok = BenchTokenizer.load("gpt2");
        List<Prompt> sg = new Dataset.ShareGpt(share, null).prompts(3, 0, tok);
        assertEquals(3, sg.size());
        assertTrue(sg.stream().allMatch(p -> p.text().startsWith("Tell me")), "too short and one-turn conversations are skipped");
        assertEquals(tok.encode("Once upon a time there was a small dog who lived next to a big cat.").length, sg.getFirst().outputTokens());
        assertEquals(2, new Dataset.ShareGpt(share, 4).prompts(2, 0, null).stream().filter(p -> p.outputTokens() == 4).count());
        assertThrows(IllegalArgumentException.class, () -> new Dataset.ShareGpt(share, null).prompts(1, 0, null));
    }

    @Test
    void prometheusTextIsSummedOverLabels() {
        String before = """
                # HELP basalt:prompt_tokens_total x
                basalt:prompt_tokens_total{model_name="a"} 10.0
                basalt:generation_tokens_total{model_name="a"} 20.0
                basalt:time_to_first_token_seconds_count{model_name="a"} 1.0
                basalt:time_to_first_token_seconds_sum{model_name="a"} 0.5
                basalt:e2e_request_latency_seconds_count{model_name="a"} 1.0
                basalt:e2e_request_latency_seconds_sum{model_name="a"} 2.0
                """;
        String after = before.replace("10.0", "110.0").replace("} 20.0", "} 70.0")
                .replace("seconds_count{model_name=\"a\"} 1.0", "seconds_count{model_name=\"a\"} 3.0")
                .replace("0.5", "0.9").replace("} 2.0", "} 4.0") + "basalt:prompt_tokens_total{model_name=\"b\"} 5\n";
        ServerMetricsView v = ServerMetricsView.delta(ServerMetricsView.parse(before), ServerMetricsView.parse(after));
        assertEquals(new ServerMetricsView("basalt:", 2, 105, 50, 200.0, null, 1000.0), v);
        assertNull(ServerMetricsView.delta(Map.of(), Map.of("other_total", 1.0)));
    }

    /** A vLLM-style exposition (what the server serves by default): labels, buckets, _created samples, engine series. */
    static String vllmExposition(double prompt, double generation, double requests, double ttftSum, double itlCount, double itlSum,
                                 double e2eSum) {
        return String.format(java.util.Locale.ROOT, """
                # HELP vllm:prompt_tokens_total Number of prefill tokens processed.
                # TYPE vllm:prompt_tokens_total counter
                vllm:prompt_tokens_total{engine="0",model_name="m"} %1$s
                vllm:prompt_tokens_created{engine="0",model_name="m"} 1.7e+09
                # TYPE vllm:generation_tokens_total counter
                vllm:generation_tokens_total{engine="0",model_name="m"} %2$s
                # TYPE vllm:time_to_first_token_seconds histogram
                vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="m"} 0.0
                vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} %3$s
                vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} %3$s
                vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} %4$s
                vllm:inter_token_latency_seconds_bucket{engine="0",le="+Inf",model_name="m"} %5$s
                vllm:inter_token_latency_seconds_count{engine="0",model_name="m"} %5$s
                vllm:inter_token_latency_seconds_sum{engine="0",model_name="m"} %6$s
                vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",model_name="m"} 0.0
                vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="m"} %3$s
                vllm:e2e_request_latency_seconds_count{engine="0",model_name="m"} %3$s
                vllm:e2e_request_latency_seconds_sum{engine="0",model_name="m"} %7$s
                vllm:request_success_total{engine="0",finished_reason="length",model_name="m"} %3$s
                """, prompt, generation, requests, ttftSum, itlCount, itlSum, e2eSum);
    }

    @Test
    void vllmNamesAreReadAndBothNamingsAreNotAddedUp() {
        String before = vllmExposition(100, 50, 2, 0.2, 48, 0.48, 1.0);
        String after = vllmExposition(400, 250, 6, 0.6, 244, 2.44, 5.0);
        ServerMetricsView v = ServerMetricsView.delta(ServerMetricsView.parse(before), ServerMetricsView.parse(after));
        assertEquals("vllm:", v.prefix());
        assertEquals(4, v.requests());
        assertEquals(300, v.promptTokens());
        assertEquals(200, v.generationTokens());
        assertEquals(100.0, v.ttftMeanMs(), 1e-9, "0.4 s over 4 first tokens");
        assertEquals(10.0, v.itlMeanMs(), 1e-9, "1.96 s over 196 gaps");
        assertEquals(1000.0, v.e2eMeanMs(), 1e-9);

        // A server serving both namings (the same counters twice): one of them is read, never their sum.
        ServerMetricsView twice = ServerMetricsView.delta(ServerMetricsView.parse(before + before.replace("vllm:", "basalt:")),
                ServerMetricsView.parse(after + after.replace("vllm:", "basalt:")));
        assertEquals(v.requests(), twice.requests());
        assertEquals(v.promptTokens(), twice.promptTokens());
        assertEquals(v.generationTokens(), twice.generationTokens());
        assertEquals(v.ttftMeanMs(), twice.ttftMeanMs(), 1e-9);
        assertEquals(v.itlMeanMs(), twice.itlMeanMs(), 1e-9);
    }

    @Test
    void compareTableCostAndPlots(@TempDir Path dir) throws Exception {
        Path a = write(dir, "a.json", "inf2", 2.0, 4, 100);
        Path b = write(dir, "b.json", "h100", Double.POSITIVE_INFINITY, 8, 400);
        // a sweep of the first deployment: its summary refers to point files beside it
        Path sweepDir = Files.createDirectories(dir.resolve("sweep"));
        List<SweepResult.Point> points = new ArrayList<>();
        double[] throughput = {50, 100, 145, 150}; // saturates at rate 4: within 5% of the best
        double[] rates = {1, 2, 4, Double.POSITIVE_INFINITY};
        for (int i = 0; i < rates.length; i++) {
            double rate = rates[i];
            String v = Double.isInfinite(rate) ? "inf" : Long.toString((long) rate);
            Path f = write(sweepDir, "rate-" + v + ".json", "inf2-sweep", rate, 4, throughput[i]);
            points.add(new SweepResult.Point(v, rate, f.getFileName().toString(), BenchResult.read(f).summary(), null));
        }
        new SweepResult("inf2-sweep", "rate", points).write(sweepDir.resolve("summary.json"));
        assertEquals("4", new SweepResult("x", "rate", points).saturation().value());

        assertEquals(1.97 / 3600 / 100 * 1e6, Compare.costPerMillion(1.97, 100), 1e-9);
        assertTrue(Double.isNaN(Compare.costPerMillion(null, 100)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Map<String, Double> prices = new LinkedHashMap<>(Map.of("inf2", 1.97, "h100", 5.61));
        List<Path> plots = Compare.run(List.of(a, b, sweepDir.resolve("summary.json")), prices, dir.resolve("plots"), List.of(99.0),
                new PrintStream(out, true));
        String table = out.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("inf2-sweep @ rate=inf") && table.contains("$ per 1M output tokens"), table);
        String costRow = table.lines().filter(l -> l.startsWith("$ per 1M output tokens")).findFirst().orElseThrow();
        assertTrue(costRow.contains(Compare.usd(1.97 / 3600 / 100 * 1e6)) && costRow.contains(Compare.usd(5.61 / 3600 / 400 * 1e6)), costRow);
        assertEquals("5.47", Compare.usd(1.97 / 3600 / 100 * 1e6));
        assertEquals("0.0123", Compare.usd(0.0123));
        Set<String> names = new HashSet<>();
        for (Path p : plots) {
            names.add(p.getFileName().toString());
            Document svg = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(p.toFile()); // well-formed XML
            assertEquals("svg", svg.getDocumentElement().getTagName());
            String content = Files.readString(p);
            assertTrue(content.contains("inf2") && content.contains("h100"), p + ": a legend entry per deployment");
            assertTrue(content.contains("(ms)") || content.contains("(tok/s)"), p + ": axis units");
        }
        assertTrue(names.containsAll(Set.of("cdf-ttft.svg", "cdf-tpot.svg", "cdf-itl.svg", "cdf-e2e.svg", "throughput-vs-rate.svg",
                "tpot-vs-throughput.svg", "ttft-vs-throughput.svg")), names.toString());
        assertTrue(Files.readString(dir.resolve("plots/throughput-vs-rate.svg")).contains(">inf<"), "the inf rate has its own tick");
        assertThrows(IllegalArgumentException.class, () -> Compare.run(List.of(a), Map.of("nope", 1.0), dir, List.of(99.0),
                new PrintStream(new ByteArrayOutputStream())));
    }

    /** A small result file: n requests of `out` tokens each, spread so throughput is tokPerS. */
    private static Path write(Path dir, String name, String label, double rate, int n, double tokPerS) {
        List<RequestRecord> rs = new ArrayList<>();
        int out = 10;
        double duration = n * out / tokPerS;
        for (int i = 0; i < n; i++) {
            rs.add(new RequestRecord(i, 0, 0, 20, out, 21, out, out, 20.0 + i, duration * 1000, new double[] {5, 6, 7 + i}, null, null));
        }
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("request_rate", Double.isInfinite(rate) ? "inf" : rate);
        config.put("max_concurrency", null);
        Path f = dir.resolve(name);
        new BenchResult(label, config, Map.of(), Summary.of(rs, duration, "usage", List.of(99.0), Slo.NONE), null, rs).write(f);
        return f;
    }
}
