package io.basalt.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.RequestHandle;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.spi.Backend;
import io.basalt.testing.Shared;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** /metrics in vLLM's dialect: names, types, labels, one series each, and histogram buckets that hold what was recorded. */
class ServerMetricsTest {
    static Engine engine;

    @BeforeAll
    static void engine() {
        CpuModelRunner runner = new CpuBackend().load(Shared.model("stories260K/stories260K.bin"), new Backend.LoadConfig(8L << 20, 4, 256));
        engine = new Engine(runner, ModelTokenizer.forModel(runner.model().info(), null), new EngineConfig(4, 256, 8L << 20, true));
    }

    @AfterAll
    static void close() { engine.close(); }

    @Test
    void latenciesLandInTheirBuckets() {
        ServerMetrics m = new ServerMetrics(engine, "m");
        for (double s : new double[] {0.027, 0.3, 0.74, 1.2}) m.recordFirstToken(s);
        PrometheusText p = PrometheusText.parse(m.scrape());
        String h = "vllm:time_to_first_token_seconds";
        assertEquals("histogram", p.type(h));
        // Cumulative counts: 27 ms is under 40 ms, 300 ms under 500 ms, 740 ms under 750 ms, 1.2 s under 2.5 s.
        assertEquals(0, p.bucket(h, "0.02"));
        assertEquals(1, p.bucket(h, "0.04"));
        assertEquals(1, p.bucket(h, "0.25"));
        assertEquals(2, p.bucket(h, "0.5"));
        assertEquals(3, p.bucket(h, "0.75"));
        assertEquals(3, p.bucket(h, "1.0"));
        assertEquals(4, p.bucket(h, "2.5"));
        assertEquals(4, p.bucket(h, "+Inf"));
        assertEquals(4, p.single(h + "_count").value());
        assertEquals(0.027 + 0.3 + 0.74 + 1.2, p.single(h + "_sum").value(), 1e-9);

        m.recordInterToken(0.012);
        m.recordEndToEnd(0.45);
        p = PrometheusText.parse(m.scrape());
        assertEquals(0, p.bucket("vllm:inter_token_latency_seconds", "0.01"));
        assertEquals(1, p.bucket("vllm:inter_token_latency_seconds", "0.025"));
        assertEquals(0, p.bucket("vllm:e2e_request_latency_seconds", "0.3"));
        assertEquals(1, p.bucket("vllm:e2e_request_latency_seconds", "0.5"));
    }

    @Test
    void aFinishedRequestFeedsTheCountersAndThePhaseHistograms() {
        ServerMetrics m = new ServerMetrics(engine, "m");
        long t0 = 1_000_000_000L;
        // queued → scheduled 0.2 s → first token 0.6 s → last token 2.6 s
        RequestHandle.Timeline timeline = new RequestHandle.Timeline(t0, t0 + 200_000_000L, t0 + 600_000_000L, t0 + 2_600_000_000L);
        List<RequestHandle.Choice> choices = List.of(
                new RequestHandle.Choice(0, new int[] {1, 2, 3}, "abc", List.of(), FinishReason.LENGTH, null),
                new RequestHandle.Choice(1, new int[] {4}, "d", List.of(), FinishReason.STOP, null));
        m.recordFinished(new RequestHandle.Result("r", choices, 7, 4, timeline));
        m.recordRejected();
        PrometheusText p = PrometheusText.parse(m.scrape());
        assertEquals(7, p.single("vllm:prompt_tokens_total").value());
        assertEquals(4, p.single("vllm:generation_tokens_total").value());
        assertEquals(1, p.single("vllm:request_prompt_tokens_count").value());
        assertEquals(4, p.single("vllm:request_generation_tokens_sum").value());
        assertEquals(0.2, p.single("vllm:request_queue_time_seconds_sum").value(), 1e-9);
        assertEquals(0.4, p.single("vllm:request_prefill_time_seconds_sum").value(), 1e-9);
        assertEquals(2.0, p.single("vllm:request_decode_time_seconds_sum").value(), 1e-9);
        assertEquals(2.4, p.single("vllm:request_inference_time_seconds_sum").value(), 1e-9);
        Map<String, Double> byReason = new java.util.HashMap<>();
        for (PrometheusText.Sample s : p.series("vllm:request_success_total")) byReason.put(s.labels().get("finished_reason"), s.value());
        assertEquals(Map.of("stop", 1.0, "length", 1.0, "abort", 0.0), byReason);
        assertEquals(1, p.single("basalt:request_rejected_total").value());

        // A request aborted while waiting never ran: its phases are not made up.
        m.recordFinished(new RequestHandle.Result("q", List.of(new RequestHandle.Choice(0, new int[0], "", List.of(),
                FinishReason.ABORT, null)), 3, 0, new RequestHandle.Timeline(t0, 0, 0, 0)));
        p = PrometheusText.parse(m.scrape());
        assertEquals(1, p.single("vllm:request_queue_time_seconds_count").value());
        assertEquals(1, p.single("vllm:request_decode_time_seconds_count").value());
    }

    static final Set<String> VLLM_FAMILIES = Set.of("vllm:num_requests_running", "vllm:num_requests_waiting",
            "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "vllm:cache_config_info", "vllm:prompt_tokens_total",
            "vllm:generation_tokens_total", "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total",
            "vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_hits_total", "vllm:gpu_prefix_cache_hit_rate",
            "vllm:num_preemptions_total", "vllm:request_success_total", "vllm:time_to_first_token_seconds",
            "vllm:inter_token_latency_seconds", "vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds",
            "vllm:request_prefill_time_seconds", "vllm:request_decode_time_seconds", "vllm:request_inference_time_seconds",
            "vllm:request_prompt_tokens", "vllm:request_generation_tokens");

    @Test
    void vllmDialectByDefaultOneSeriesEach() {
        PrometheusText p = PrometheusText.parse(new ServerMetrics(engine, "tiny").scrape());
        for (String name : VLLM_FAMILIES) assertTrue(p.types().containsKey(name), name + " missing: " + p.types().keySet());
        PrometheusText.PICKER_METRICS.forEach((name, type) -> {
            assertEquals(type, p.type(name), name);
            assertEquals("tiny", p.single(name).labels().get("model_name"), name);
        });
        PrometheusText.Sample info = p.single("vllm:cache_config_info");
        assertEquals("16", info.labels().get("block_size"));
        assertEquals(Integer.toString(engine.runner().capabilities().numKvBlocks()), info.labels().get("num_gpu_blocks"));
        assertEquals(1, info.value());
        // Every sample carries the model's name, and no metric has two series except by finish reason.
        for (PrometheusText.Sample s : p.samples()) assertEquals("tiny", s.labels().get("model_name"), s.toString());
        assertEquals(3, p.series("vllm:request_success_total").size());
        assertEquals("counter", p.type("vllm:prompt_tokens_total"));
        assertEquals("counter", p.type("vllm:num_preemptions_total"));
    }

    @Test
    void basaltNamesOnRequest() {
        String text = new ServerMetrics(engine, "tiny", ServerMetrics.Names.BASALT).scrape();
        PrometheusText p = PrometheusText.parse(text);
        assertFalse(text.contains("vllm:"), text);
        assertEquals("gauge", p.type("basalt:num_requests_waiting"));
        assertEquals("gauge", p.type("basalt:kv_cache_usage_perc"));
        assertEquals("gauge", p.type("basalt:prefix_cache_hit_rate"));
        assertEquals("histogram", p.type("basalt:time_to_first_token_seconds"));
        assertEquals("counter", p.type("basalt:prompt_tokens_total"));
        assertFalse(p.types().containsKey("basalt:gpu_cache_usage_perc"), "vLLM's deprecated aliases are not repeated under basalt:");
        assertEquals(ServerMetrics.Names.BASALT, ServerMetrics.Names.parse("Basalt"));
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ServerMetrics.Names.parse("prom")).getMessage().contains("vllm or basalt"));
    }

    @Test
    void tokenBucketsAreOneTwoFiveUpToTheContext() {
        assertEquals(List.of(1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0),
                java.util.Arrays.stream(ServerMetrics.oneTwoFive(512)).boxed().toList());
    }
}
