package io.basalt.server;

import io.basalt.api.FinishReason;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineStats;
import io.basalt.engine.RequestHandle;
import io.basalt.server.Exposition.Histogram;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * The Prometheus {@code /metrics} of one served model, in vLLM's dialect by default: the names, types, labels and
 * histogram buckets of vLLM's {@code vllm:} metrics, because Kubernetes' inference gateway (GIE / llm-d endpoint
 * picker), KServe's autoscaling examples and the common dashboards read exactly those. {@link Names#BASALT} puts
 * the same metrics under {@code basalt:} (without vLLM's deprecated aliases). Metrics vLLM has no name for
 * ({@code request_rejected}, the raw KV block counts) are always {@code basalt:}.
 *
 * <p>Every metric is one series (label {@code model_name}; {@code request_success_total} adds
 * {@code finished_reason}, one series per reason): the endpoint picker reads one series, it never sums.
 * Engine state is read at scrape time from {@link Engine#stats()} (a volatile read, no lock on the step thread);
 * request metrics are atomic adds as requests progress; {@link Exposition} writes the text with everything but the
 * numbers rendered in advance.
 */
public final class ServerMetrics {
    /** Which prefix {@code /metrics} uses ({@code --metrics-names}). */
    public enum Names {
        VLLM("vllm:"), BASALT("basalt:");

        private final String prefix;

        Names(String prefix) { this.prefix = prefix; }

        public String prefix() { return prefix; }

        /** {@code vllm} or {@code basalt}, any case; anything else names the choices. */
        public static Names parse(String value) {
            for (Names n : values()) if (n.name().equalsIgnoreCase(value.strip())) return n;
            throw new IllegalArgumentException("--metrics-names must be vllm or basalt, got '" + value + "'");
        }
    }

    // vLLM's buckets (vllm/v1/metrics/loggers.py), so dashboards' quantiles mean the same on both servers.
    static final double[] TTFT_BUCKETS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
        7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
    static final double[] INTER_TOKEN_BUCKETS = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
        5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
    static final double[] REQUEST_LATENCY_BUCKETS = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0,
        50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

    private final Exposition exposition = new Exposition();
    private final String prefix;
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generationTokens = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final EnumMap<FinishReason, LongAdder> success = new EnumMap<>(FinishReason.class);
    private final Histogram ttft = new Histogram(TTFT_BUCKETS);
    private final Histogram interToken = new Histogram(INTER_TOKEN_BUCKETS);
    private final Histogram e2e = new Histogram(REQUEST_LATENCY_BUCKETS);
    private final Histogram queueTime = new Histogram(REQUEST_LATENCY_BUCKETS);
    private final Histogram prefillTime = new Histogram(REQUEST_LATENCY_BUCKETS);
    private final Histogram decodeTime = new Histogram(REQUEST_LATENCY_BUCKETS);
    private final Histogram inferenceTime = new Histogram(REQUEST_LATENCY_BUCKETS);
    private final Histogram requestPromptTokens;
    private final Histogram requestGenerationTokens;

    /** vLLM's names. */
    public ServerMetrics(Engine engine, String modelName) { this(engine, modelName, Names.VLLM); }

    public ServerMetrics(Engine engine, String modelName, Names names) {
        this.prefix = names.prefix();
        boolean vllm = names == Names.VLLM;
        String model = Exposition.labels("model_name", modelName);
        double[] tokenBuckets = oneTwoFive(engine.maxModelLen());
        requestPromptTokens = new Histogram(tokenBuckets);
        requestGenerationTokens = new Histogram(tokenBuckets);
        for (FinishReason r : FinishReason.values()) success.put(r, new LongAdder());
        Exposition x = exposition;

        x.gauge(prefix + "num_requests_running", "Number of requests in model execution batches.", model,
                () -> engine.stats().numRunning());
        x.gauge(prefix + "num_requests_waiting", "Number of requests waiting to be processed.", model,
                () -> engine.stats().numWaiting());
        x.gauge(prefix + "kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", model, () -> engine.stats().kvUsage());
        if (vllm) {
            // Deprecated by vLLM, still read by older gateway endpoint pickers and the production-stack router.
            x.gauge("vllm:gpu_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage (alias of kv_cache_usage_perc).", model,
                    () -> engine.stats().kvUsage());
        }
        var caps = engine.runner().capabilities();
        x.gauge(prefix + "cache_config_info", "Information of the LLMEngine CacheConfig", Exposition.labels("model_name", modelName,
                "block_size", Integer.toString(caps.kvBlockSize()), "num_gpu_blocks", Integer.toString(caps.numKvBlocks()),
                "num_cpu_blocks", "0", "enable_prefix_caching", engine.config().enablePrefixCaching() ? "True" : "False",
                "cache_dtype", "auto"), () -> 1);
        x.counter(prefix + "prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", model,
                () -> engine.stats().prefixQueryTokens());
        x.counter(prefix + "prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", model,
                () -> engine.stats().prefixHitTokens());
        if (vllm) {
            x.counter("vllm:gpu_prefix_cache_queries_total", "Prefix cache queries in tokens (alias of prefix_cache_queries).", model,
                    () -> engine.stats().prefixQueryTokens());
            x.counter("vllm:gpu_prefix_cache_hits_total", "Prefix cache hits in tokens (alias of prefix_cache_hits).", model,
                    () -> engine.stats().prefixHitTokens());
        }
        x.gauge(prefix + (vllm ? "gpu_prefix_cache_hit_rate" : "prefix_cache_hit_rate"),
                "Prefix cache hit rate: cached tokens / queried tokens since start.", model, () -> hitRate(engine.stats()));
        x.counter(prefix + "num_preemptions_total", "Cumulative number of preemptions from the engine.", model,
                () -> engine.stats().numPreemptions());
        x.counter(prefix + "prompt_tokens_total", "Number of prefill tokens processed.", model, promptTokens::sum);
        x.counter(prefix + "generation_tokens_total", "Number of generation tokens processed.", model, generationTokens::sum);
        List<String> reasons = new ArrayList<>();
        List<DoubleSupplier> counts = new ArrayList<>();
        for (FinishReason r : FinishReason.values()) {
            reasons.add(Exposition.labels("model_name", modelName, "finished_reason", r.openAiName()));
            counts.add(success.get(r)::sum);
        }
        x.counter(prefix + "request_success_total", "Count of successfully processed requests.", reasons, counts);

        x.histogram(prefix + "time_to_first_token_seconds", "Histogram of time to first token in seconds.", model, ttft);
        x.histogram(prefix + "inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", model, interToken);
        x.histogram(prefix + "e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", model, e2e);
        x.histogram(prefix + "request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", model, queueTime);
        x.histogram(prefix + "request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", model, prefillTime);
        x.histogram(prefix + "request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", model, decodeTime);
        x.histogram(prefix + "request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", model,
                inferenceTime);
        x.histogram(prefix + "request_prompt_tokens", "Number of prefill tokens processed.", model, requestPromptTokens);
        x.histogram(prefix + "request_generation_tokens", "Number of generation tokens processed.", model, requestGenerationTokens);

        // No vLLM name for these: always basalt:.
        x.counter("basalt:request_rejected_total", "Requests refused because the queue was full (429).", model, rejected::sum);
        x.gauge("basalt:kv_blocks_used", "KV blocks in use.", model, () -> engine.stats().kvUsedBlocks());
        x.gauge("basalt:kv_blocks_total", "KV blocks the engine has.", model, () -> engine.stats().kvTotalBlocks());
    }

    /** 1, 2, 5, 10, 20, 50, … up to {@code max} (vLLM's token-count buckets). */
    static double[] oneTwoFive(int max) {
        List<Double> out = new ArrayList<>();
        for (long base = 1; base <= max; base *= 10) {
            for (int m : new int[] {1, 2, 5}) if (base * m <= max) out.add((double) (base * m));
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double hitRate(EngineStats s) {
        return s.prefixQueryTokens() == 0 ? 0 : s.prefixHitTokens() / (double) s.prefixQueryTokens();
    }

    void recordFirstToken(double seconds) { ttft.observe(seconds); }

    void recordInterToken(double seconds) { interToken.observe(seconds); }

    void recordEndToEnd(double seconds) { e2e.observe(seconds); }

    void recordRejected() { rejected.increment(); }

    /** A request ended (any way): its token counts, each choice's finish reason, and the engine's phases. */
    void recordFinished(RequestHandle.Result r) {
        promptTokens.add(r.numPromptTokens());
        generationTokens.add(r.numGeneratedTokens());
        requestPromptTokens.observe(r.numPromptTokens());
        requestGenerationTokens.observe(r.numGeneratedTokens());
        for (RequestHandle.Choice c : r.choices()) success.get(c.finishReason()).increment();
        RequestHandle.Timeline t = r.timeline();
        observeIfKnown(queueTime, t.queueSeconds());
        observeIfKnown(prefillTime, t.prefillSeconds());
        observeIfKnown(decodeTime, t.decodeSeconds());
        observeIfKnown(inferenceTime, t.inferenceSeconds());
    }

    private static void observeIfKnown(Histogram h, double seconds) {
        if (!Double.isNaN(seconds)) h.observe(seconds);
    }

    /** The Prometheus text exposition format (version 0.0.4). */
    public byte[] scrapeBytes() { return exposition.scrape(); }

    /** {@link #scrapeBytes()} as text. */
    public String scrape() { return new String(scrapeBytes(), StandardCharsets.UTF_8); }

    /** The content type of {@link #scrapeBytes()}. */
    public String contentType() { return Exposition.CONTENT_TYPE; }
}
