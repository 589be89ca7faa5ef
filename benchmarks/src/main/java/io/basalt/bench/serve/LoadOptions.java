package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
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

    @Option(names = "--tokenizer", description = "Count tokens (and build random prompts) with this tokenizer: tokenizer.json, llama2.c .bin, GGUF, gpt2 "
            + "or o200k_harmony. Without it random prompts come from the server's /tokenize (or, lacking that, its usage counts).")
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
    private String promptSource; // what made the prompts' text: "tokenizer", "server /tokenize", "server usage (approximate)"

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

    /** The prompts, built once (a sweep runs every point on the same ones); notes on what built them go to err. */
    List<Prompt> prompts(PrintWriter err) {
        if (numPrompts < 1) throw new IllegalArgumentException("--num-prompts must be >= 1");
        if (prompts == null) {
            Dataset d = dataset();
            if (tokenizer == null && d instanceof Dataset.Synthetic synthetic) {
                prompts = promptsFromServer(synthetic, err);
            } else {
                prompts = d.prompts(numPrompts, seed, tokenizer());
                promptSource = tokenizer != null && d instanceof Dataset.Synthetic ? "tokenizer" : null;
            }
        }
        return prompts;
    }

    /**
     * Without --tokenizer, random text of the asked lengths comes from the server: its /tokenize and
     * /detokenize (exact lengths, as with the same tokenizer here), else random words sized by its
     * usage counts (approximate lengths). One line on err says which; neither working is bad input.
     */
    private List<Prompt> promptsFromServer(Dataset.Synthetic d, PrintWriter err) {
        String tokenizeFailure;
        try (ServerTokenizer server = new ServerTokenizer(baseUrl, model, apiKey())) {
            List<Prompt> ps = d.prompts(numPrompts, seed, new RandomText(server, server.pieces()));
            promptSource = "server /tokenize";
            err.println("basalt: no --tokenizer: the " + d.name() + " prompts were built with the server's /tokenize and /detokenize "
                    + "(exact lengths); tokens are counted from its usage");
            warnContextLength(ps, server.maxModelLen(), err);
            err.flush();
            return ps;
        } catch (ServerTokenizer.Failed e) {
            if (e.connection()) throw new IllegalArgumentException(e.getMessage());
            tokenizeFailure = e.getMessage();
        }
        double perWord;
        try (StreamClient c = client()) {
            perWord = tokensPerWord(c);
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("the " + d.name() + " dataset needs token counts: the server's /tokenize did not work ("
                    + tokenizeFailure + "), nor did measuring its usage (" + e.getMessage() + "); pass --tokenizer");
        }
        promptSource = "server usage (approximate)";
        err.printf(Locale.ROOT, "basalt: no --tokenizer and no /tokenize on the server (%s): the %s prompts are random words, %.2f tokens "
                + "each by the server's usage, so their lengths are approximate; tokens are counted from its usage%n", tokenizeFailure, d.name(), perWord);
        err.flush();
        return d.prompts(numPrompts, seed, new WordText(perWord));
    }

    /**
     * The server's tokens per word of {@link WordText}: two prompts of different lengths (max_tokens 1),
     * the difference of their usage.prompt_tokens over the difference in words (a chat template or BOS
     * adds the same to both).
     */
    static double tokensPerWord(StreamClient client) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(0);
        int shortWords = 16, longWords = 80;
        int[] counts = new int[2];
        String[] texts = {WordText.words(random, shortWords), WordText.words(random, longWords)};
        for (int i = 0; i < 2; i++) {
            StreamClient.Exchange x = client.send(texts[i], 1);
            // usage is what is wanted; a reply that ended without text (an immediate EOS) still has it
            if (x.usagePromptTokens() < 0) {
                throw new IllegalStateException(x.error() != null ? x.error() + ": " + x.errorDetail() : "the server sends no usage counts");
            }
            counts[i] = x.usagePromptTokens();
        }
        double perWord = (counts[1] - counts[0]) / (double) (longWords - shortWords);
        if (!(perWord > 0)) throw new IllegalStateException("its usage counts do not grow with the prompt (" + counts[0] + ", " + counts[1] + ")");
        return perWord;
    }

    /** One line when some prompt plus its output cannot fit the server's context: those requests will fail. */
    private static void warnContextLength(List<Prompt> ps, int maxModelLen, PrintWriter err) {
        if (maxModelLen <= 0) return;
        long over = ps.stream().filter(p -> p.promptTokens() + p.outputTokens() > maxModelLen).count();
        int longest = ps.stream().mapToInt(p -> p.promptTokens() + p.outputTokens()).max().orElse(0);
        if (over > 0) {
            err.println("basalt: warning: " + over + " of " + ps.size() + " prompts plus their output (up to " + longest
                    + " tokens) exceed the server's max_model_len " + maxModelLen + "; the server will refuse them");
        }
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
    BenchResult run(double rate, Integer maxConcurrency, List<String> commandLine, PrintWriter err) {
        Slo goals = Slo.parse(slo);
        for (double p : percentiles) if (!(p > 0 && p < 100)) throw new IllegalArgumentException("--percentiles must be in (0, 100), got " + p);
        LoadRunner.TokenSource source = tokenSource();
        List<Prompt> ps = prompts(err);
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
        c.put("prompt_text", promptSource);
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
