package io.basalt.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.engine.EngineConfig;
import io.basalt.server.PrometheusText;
import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.Shared;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * {@code basalt serve}'s /metrics scraped the way Kubernetes' inference gateway scrapes it (every 50 ms, one series per metric) while 100
 * streaming requests are in flight: the gauges the endpoint picker reads are there, typed, labelled and single, and
 * they show the load. The scrape's cost is printed (tests never assert on time).
 */
class MetricsUnderLoadTest {
    static final int CLIENTS = 100;

    @Test
    void thePickersMetricsUnderAHundredRequests() throws Exception {
        // What `basalt serve` starts: the same settings record, loader, engine, transports and metrics.
        ServeSettings settings = ServeSettings.forTests(Shared.model("stories260K/stories260K.bin"))
                .withEngine(new EngineConfig(64, 2048, 64L << 20, true)).withMaxQueue(CLIENTS);
        try (BasaltServer server = BasaltServer.start(settings);
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
             // A client of its own: the one reading the 100 streams would add its own queueing to the scrape's time.
             HttpClient scraper = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            String model = server.model().id();
            URI completions = URI.create(server.baseUrl() + "/v1/completions");
            client.send(HttpRequest.newBuilder(completions).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"prompt\":\"Once\",\"max_tokens\":2}")).build(), HttpResponse.BodyHandlers.ofString()); // warm up
            HttpRequest scrape = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/metrics")).GET().build();
            long[] idle = new long[200];
            for (int i = 0; i < idle.length; i++) {
                long t0 = System.nanoTime();
                assertEquals(200, scraper.send(scrape, HttpResponse.BodyHandlers.ofString()).statusCode());
                idle[i] = System.nanoTime() - t0;
            }
            List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                HttpRequest r = HttpRequest.newBuilder(completions).POST(HttpRequest.BodyPublishers.ofString(
                        "{\"prompt\":\"Once upon a time " + i + "\",\"max_tokens\":400,\"ignore_eos\":true,\"stream\":true}")).build();
                streams.add(client.sendAsync(r, HttpResponse.BodyHandlers.ofString()));
            }
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (server.service().inFlight() < CLIENTS && System.nanoTime() < deadline) Thread.sleep(1);
            assertEquals(CLIENTS, server.service().inFlight(), "all clients in flight");

            long[] http = new long[200];
            long[] inProcess = new long[200];
            int n = 0;
            PrometheusText busiest = null;
            double busiestRunning = -1;
            while (n < http.length && server.service().inFlight() == CLIENTS) {
                long t0 = System.nanoTime();
                HttpResponse<String> r = scraper.send(scrape, HttpResponse.BodyHandlers.ofString());
                long t1 = System.nanoTime();
                server.service().metrics().scrapeBytes();
                inProcess[n] = System.nanoTime() - t1;
                http[n] = t1 - t0;
                assertEquals(200, r.statusCode());
                assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"), r.headers().toString());
                PrometheusText p = PrometheusText.parse(r.body());
                double running = p.single("vllm:num_requests_running").value();
                if (running > busiestRunning) {
                    busiestRunning = running;
                    busiest = p;
                }
                n++;
                Thread.sleep(5);
            }
            assertTrue(n >= 20, "only " + n + " scrapes while all " + CLIENTS + " were in flight");
            PrometheusText p = busiest;
            for (Map.Entry<String, String> e : PrometheusText.PICKER_METRICS.entrySet()) {
                assertEquals(e.getValue(), p.type(e.getKey()), e.getKey());
                assertEquals(model, p.single(e.getKey()).labels().get("model_name"), e.getKey());
            }
            double running = p.single("vllm:num_requests_running").value();
            double waiting = p.single("vllm:num_requests_waiting").value();
            assertTrue(running > 0 && running <= 64, "running " + running);
            assertTrue(running + waiting <= CLIENTS, running + " + " + waiting);
            double kv = p.single("vllm:kv_cache_usage_perc").value();
            assertTrue(kv > 0 && kv <= 1, "kv usage " + kv);
            assertEquals(kv, p.single("vllm:gpu_cache_usage_perc").value());

            System.out.printf(Locale.ROOT, "/metrics with %d requests in flight (%d running): %d scrapes, %d bytes; "
                            + "in-process median %.0f µs, max %.0f µs; over HTTP median %.0f µs, max %.0f µs (idle server: median %.0f µs)%n",
                    CLIENTS, (int) running, n, server.service().metrics().scrapeBytes().length, median(inProcess, n) / 1e3,
                    max(inProcess, n) / 1e3, median(http, n) / 1e3, max(http, n) / 1e3, median(idle, idle.length) / 1e3);

            for (CompletableFuture<HttpResponse<String>> s : streams) s.cancel(true);
        }
    }

    static double median(long[] v, int n) {
        long[] c = Arrays.copyOf(v, n);
        Arrays.sort(c);
        return c[n / 2];
    }

    static double max(long[] v, int n) { return Arrays.stream(v, 0, n).max().orElse(0); }
}
