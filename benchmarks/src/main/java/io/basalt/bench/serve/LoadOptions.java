package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Option;

/** The options {@code bench serve} and {@code bench sweep} share: target, dataset, client behaviour, reporting. */
public final class LoadOptions {
    @Option(names = "--base-url", required = true, description = "Server root, e.g. http://127.0.0.1:8000 (a trailing /v1 is accepted).")
    String baseUrl;

    @Option(names = "--model", required = true, description = "Model name sent in every request.")
    String model;

    @Option(names = "--endpoint", defaultValue = "completions", description = "completions (/v1/completions) or chat (/v1/chat/completions).")
    String endpoint;

    @Option(names = "--api-key", description = "Bearer token (default: $OPENAI_API_KEY).")
    String apiKey;

    @Option(names = "--label", description = "Name of this deployment in reports and for --price (default: MODEL@HOST:PORT).")
    String label;

    @Option(names = "--dataset", defaultValue = "random", description = "random, jsonl, sharegpt or prefix-repetition.")
    String dataset;

    @Option(names = "--dataset-path", description = "The JSONL prompts file or ShareGPT JSON file.")
    Path datasetPath;

    @Option(names = "--random-input-len", defaultValue = "1024", description = "random: mean prompt length in tokens.")
    int randomInputLen;

    @Option(names = "--random-output-len", defaultValue = "128", description = "random: mean output length in tokens.")
    int randomOutputLen;

    @Option(names = "--random-range-ratio", defaultValue = "0", description = "random: lengths uniform in [len*(1-r), len*(1+r)].")
    double randomRangeRatio;

    @Option(names = "--prefix-len", defaultValue = "256", description = "prefix-repetition: shared prefix length in tokens.")
    int prefixLen;

    @Option(names = "--suffix-len", defaultValue = "256", description = "prefix-repetition: unique suffix length in tokens.")
    int suffixLen;

    @Option(names = "--num-prefixes", defaultValue = "10", description = "prefix-repetition: number of distinct prefixes.")
    int numPrefixes;

    @Option(names = "--output-len", description = "jsonl, sharegpt, prefix-repetition: max_tokens (jsonl/prefix default 128; sharegpt: the reply's length).")
    Integer outputLen;

    @Option(names = "--num-prompts", defaultValue = "1000", description = "Requests measured (warm-ups not included).")
    int numPrompts;

    @Option(names = "--burstiness", defaultValue = "1", description = "Gamma shape of the gaps: 1 Poisson, <1 burstier, >1 more regular.")
    double burstiness;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the dataset and the arrivals.")
    long seed;

    @Option(names = "--warmup", defaultValue = "1", description = "Requests sent and awaited before the measured run.")
    int warmup;

    @Option(names = "--tokenizer", description = "Count tokens (and build random prompts) with this tokenizer: tokenizer.json, llama2.c .bin, GGUF, gpt2 or o200k_harmony.")
    String tokenizer;

    @Option(names = "--token-source", defaultValue = "auto", description = "auto (tokenizer when given, else the server's usage), tokenizer or usage.")
    String tokenSource;

    @Option(names = "--ignore-eos", description = "Send ignore_eos so every request generates max_tokens (vLLM, ours; not OpenAI's cloud).")
    boolean ignoreEos;

    @Option(names = "--temperature", defaultValue = "0", description = "Sampling temperature sent.")
    double temperature;

    @Option(names = "--extra-body", description = "JSON object merged into every request body, e.g. '{\"top_k\":1}'.")
    String extraBody;

    @Option(names = "--request-timeout", defaultValue = "0", description = "Per-request limit (e.g. 120s, 500ms); 0 for none.")
    String requestTimeout;

    @Option(names = "--percentiles", defaultValue = "90,99", split = ",", description = "Percentiles reported besides mean and median.")
    List<Double> percentiles;

    @Option(names = "--slo", description = "Goodput objectives, e.g. ttft:500ms,tpot:50ms (also itl, e2e).")
    String slo;

    @Option(names = "--no-server-metrics", description = "Do not scrape the server's /metrics before and after the run.")
    boolean noServerMetrics;

    @Option(names = "--no-progress", description = "No progress bar on stderr.")
    boolean noProgress;

    private Tokenizer loadedTokenizer;
    private List<Prompt> prompts;

    Endpoint endpoint() {
        return switch (endpoint.toLowerCase(Locale.ROOT)) {
            case "completions", "completion" -> Endpoint.COMPLETIONS;
            case "chat" -> Endpoint.CHAT;
            default -> throw new IllegalArgumentException("--endpoint must be completions or chat, got '" + endpoint + "'");
        };
    }

    Dataset dataset() {
        return switch (dataset.toLowerCase(Locale.ROOT)) {
            case "random" -> new Dataset.RandomLengths(randomInputLen, randomOutputLen, randomRangeRatio);
            case "prefix-repetition", "prefix_repetition" -> new Dataset.PrefixRepetition(prefixLen, suffixLen, numPrefixes, out(128));
            case "jsonl", "custom" -> new Dataset.Jsonl(path(), out(128));
            case "sharegpt" -> new Dataset.ShareGpt(path(), outputLen);
            default -> throw new IllegalArgumentException("--dataset must be random, jsonl, sharegpt or prefix-repetition, got '" + dataset + "'");
        };
    }

    private int out(int fallback) { return outputLen != null ? outputLen : fallback; }

    private Path path() {
        if (datasetPath == null) throw new IllegalArgumentException("--dataset " + dataset + " needs --dataset-path FILE");
        return datasetPath;
    }

    Tokenizer tokenizer() {
        if (loadedTokenizer == null && tokenizer != null) loadedTokenizer = BenchTokenizer.load(tokenizer);
        return loadedTokenizer;
    }

    LoadRunner.TokenSource tokenSource() {
        return switch (tokenSource.toLowerCase(Locale.ROOT)) {
            case "auto" -> tokenizer != null ? LoadRunner.TokenSource.TOKENIZER : LoadRunner.TokenSource.USAGE;
            case "tokenizer" -> {
                if (tokenizer == null) throw new IllegalArgumentException("--token-source tokenizer needs --tokenizer");
                yield LoadRunner.TokenSource.TOKENIZER;
            }
            case "usage" -> LoadRunner.TokenSource.USAGE;
            default -> throw new IllegalArgumentException("--token-source must be auto, tokenizer or usage, got '" + tokenSource + "'");
        };
    }

    /** The prompts, built once (a sweep runs every point on the same ones). */
    List<Prompt> prompts() {
        if (numPrompts < 1) throw new IllegalArgumentException("--num-prompts must be >= 1");
        if (prompts == null) prompts = dataset().prompts(numPrompts, seed, tokenizer());
        return prompts;
    }

    String label() {
        if (label != null && !label.isBlank()) return label;
        java.net.URI u = java.net.URI.create(baseUrl);
        return model + "@" + u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : "");
    }

    String apiKey() { return apiKey != null ? apiKey : System.getenv().getOrDefault("OPENAI_API_KEY", ""); }

    Duration timeout() { return parseDuration(requestTimeout, "--request-timeout"); }

    static Duration parseDuration(String s, String option) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.endsWith("ms")) return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2).trim()));
            if (v.endsWith("m")) return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1).trim()));
            double seconds = Double.parseDouble(v.endsWith("s") ? v.substring(0, v.length() - 1) : v);
            if (seconds < 0) throw new NumberFormatException();
            return Duration.ofNanos((long) (seconds * 1e9));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a duration such as 120s or 500ms, got '" + s + "'");
        }
    }

    ObjectNode extraBody() {
        if (extraBody == null || extraBody.isBlank()) return null;
        try {
            JsonNode n = new ObjectMapper().readTree(extraBody);
            if (n instanceof ObjectNode o) return o;
        } catch (IOException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("--extra-body must be a JSON object, got '" + extraBody + "'");
    }

    StreamClient client() {
        return new StreamClient(baseUrl, model, endpoint(), apiKey(), timeout(), ignoreEos, temperature, extraBody());
    }

    /**
     * One measured run at a request rate (infinite: all at once) and concurrency cap (null: none):
     * warm-up, /metrics before, the run, /metrics after, everything gathered into a result.
     */
    BenchResult run(double rate, Integer maxConcurrency, List<String> commandLine) {
        Slo goals = Slo.parse(slo);
        for (double p : percentiles) if (!(p > 0 && p < 100)) throw new IllegalArgumentException("--percentiles must be in (0, 100), got " + p);
        LoadRunner.TokenSource source = tokenSource();
        List<Prompt> ps = prompts();
        LoadRunner.Plan plan = new LoadRunner.Plan(rate, burstiness, seed, maxConcurrency == null ? 0 : maxConcurrency, warmup, source);
        try (StreamClient client = client(); ProgressBar bar = progressBar(ps.size())) {
            int[] failed = {0};
            LoadRunner.Progress progress = bar == null ? LoadRunner.Progress.NONE : r -> {
                synchronized (bar) {
                    if (!r.ok()) bar.setExtraMessage(" errors " + ++failed[0]);
                    bar.step();
                }
            };
            // The warm-up runs first inside LoadRunner; scrape after it so its tokens are not counted.
            AtomicReference<Map<String, Double>> before = new AtomicReference<>();
            LoadRunner.Run run = LoadRunner.run(client, ps, tokenizer(), plan, progress,
                    () -> before.set(noServerMetrics ? null : ServerMetricsView.scrape(baseUrl, apiKey())));
            ServerMetricsView server = noServerMetrics ? null
                    : ServerMetricsView.delta(before.get(), ServerMetricsView.scrape(baseUrl, apiKey()));
            Summary summary = Summary.of(run.records(), run.durationS(), source.name().toLowerCase(Locale.ROOT), percentiles, goals);
            return new BenchResult(label(), config(rate, maxConcurrency, goals), BenchResult.environment(commandLine), summary, server,
                    run.records());
        }
    }

    private Map<String, Object> config(double rate, Integer maxConcurrency, Slo goals) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("base_url", baseUrl);
        c.put("model", model);
        c.put("endpoint", endpoint().path());
        c.put("dataset", dataset.toLowerCase(Locale.ROOT));
        c.put("dataset_path", datasetPath == null ? null : datasetPath.toString());
        switch (dataset()) {
            case Dataset.RandomLengths d -> {
                c.put("random_input_len", d.inputLen());
                c.put("random_output_len", d.outputLen());
                c.put("random_range_ratio", d.rangeRatio());
            }
            case Dataset.PrefixRepetition d -> {
                c.put("prefix_len", d.prefixLen());
                c.put("suffix_len", d.suffixLen());
                c.put("num_prefixes", d.numPrefixes());
                c.put("output_len", d.outputLen());
            }
            default -> c.put("output_len", outputLen);
        }
        c.put("num_prompts", numPrompts);
        c.put("request_rate", Double.isInfinite(rate) ? "inf" : rate);
        c.put("burstiness", burstiness);
        c.put("max_concurrency", maxConcurrency);
        c.put("seed", seed);
        c.put("warmup", warmup);
        c.put("tokenizer", tokenizer);
        c.put("token_source", tokenSource().name().toLowerCase(Locale.ROOT));
        c.put("ignore_eos", ignoreEos);
        c.put("temperature", temperature);
        c.put("extra_body", extraBody());
        c.put("request_timeout", requestTimeout);
        c.put("percentiles", percentiles);
        c.put("slo", goals.isEmpty() ? null : goals.toString());
        return c;
    }

    private ProgressBar progressBar(int total) {
        if (noProgress) return null;
        return new ProgressBarBuilder().setTaskName("requests").setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250).setConsumer(new ConsoleProgressBarConsumer(System.err, 100)).build();
    }

    /** "1,2,inf" → rates. */
    static List<Double> rates(String spec, String option) {
        return Arrays.stream(spec.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(s -> rate(s, option)).toList();
    }

    static double rate(String s, String option) {
        if (s.equalsIgnoreCase("inf")) return Double.POSITIVE_INFINITY;
        try {
            double r = Double.parseDouble(s);
            if (r > 0 && !Double.isInfinite(r)) return r;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a positive number or inf, got '" + s + "'");
    }
}
