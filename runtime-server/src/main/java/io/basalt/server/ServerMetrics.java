package io.basalt.server;

import io.basalt.engine.Engine;
import io.basalt.engine.EngineStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Prometheus metrics named after vLLM's (`basalt:` prefix instead of `vllm:`): engine gauges read
 * from {@link EngineStats} at scrape time, token counters, and latency histograms in seconds.
 */
public final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter rejected;
    private final DistributionSummary ttft;
    private final DistributionSummary interToken;
    private final DistributionSummary e2e;

    public ServerMetrics(Engine engine, String modelName) {
        Gauge.builder("basalt:num_requests_running", engine, e -> e.stats().numRunning()).tag("model_name", modelName)
                .description("Sequences running in the engine").register(registry);
        Gauge.builder("basalt:num_requests_waiting", engine, e -> e.stats().numWaiting()).tag("model_name", modelName)
                .description("Sequences waiting for admission").register(registry);
        Gauge.builder("basalt:kv_cache_usage_perc", engine, e -> e.stats().kvUsage()).tag("model_name", modelName)
                .description("Fraction of KV blocks in use").register(registry);
        Gauge.builder("basalt:prefix_cache_hit_rate", engine, e -> hitRate(e.stats())).tag("model_name", modelName)
                .description("Prompt tokens found in the prefix cache / prompt tokens looked up").register(registry);
        Gauge.builder("basalt:num_preemptions", engine, e -> e.stats().numPreemptions()).tag("model_name", modelName)
                .description("Sequences preempted so far").register(registry);
        promptTokens = Counter.builder("basalt:prompt_tokens").tag("model_name", modelName)
                .description("Prompt tokens of finished requests").register(registry);
        generationTokens = Counter.builder("basalt:generation_tokens").tag("model_name", modelName)
                .description("Generated tokens of finished requests").register(registry);
        rejected = Counter.builder("basalt:request_rejected").tag("model_name", modelName)
                .description("Requests refused because the queue was full").register(registry);
        ttft = histogram("basalt:time_to_first_token_seconds", "Time to first token", modelName);
        interToken = histogram("basalt:inter_token_latency_seconds", "Time between consecutive tokens", modelName);
        e2e = histogram("basalt:e2e_request_latency_seconds", "End-to-end request latency", modelName);
    }

    private DistributionSummary histogram(String name, String description, String modelName) {
        return DistributionSummary.builder(name).tag("model_name", modelName).description(description)
                .serviceLevelObjectives(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                        7.5, 10.0, 20.0, 40.0, 80.0)
                .register(registry);
    }

    private static double hitRate(EngineStats s) {
        return s.prefixQueryTokens() == 0 ? 0 : s.prefixHitTokens() / (double) s.prefixQueryTokens();
    }

    void recordFirstToken(double seconds) { ttft.record(seconds); }

    void recordInterToken(double seconds) { interToken.record(seconds); }

    void recordFinished(int prompt, int generated) {
        promptTokens.increment(prompt);
        generationTokens.increment(generated);
    }

    void recordEndToEnd(double seconds) { e2e.record(seconds); }

    void recordRejected() { rejected.increment(); }

    /** The Prometheus text exposition format. */
    public String scrape() { return registry.scrape(); }
}
