package io.basalt.bench.serve;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The server's own view of a run, from its Prometheus {@code /metrics} scraped before and after:
 * token counters and the latency histograms' sum/count (so their means), under vLLM's names with its
 * {@code vllm:} prefix or ours ({@code basalt:}). Series of one metric are summed over their labels.
 *
 * @param prefix            the metric prefix found
 * @param requests          requests the server finished (its E2E histogram's count)
 * @param promptTokens      prompt tokens of finished requests
 * @param generationTokens  generated tokens of finished requests
 * @param ttftMeanMs        mean time to first token, or null when the server has no such histogram
 * @param itlMeanMs         mean gap between the server's token events
 * @param e2eMeanMs         mean request latency
 */
public record ServerMetricsView(String prefix, long requests, long promptTokens, long generationTokens, Double ttftMeanMs,
                                Double itlMeanMs, Double e2eMeanMs) {

    /** Scrapes /metrics; null when the server has none in a known naming. */
    public static Map<String, Double> scrape(String baseUrl, String apiKey) {
        String base = baseUrl.replaceAll("/+$", "").replaceAll("/v1$", "");
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/metrics")).timeout(Duration.ofSeconds(10)).GET();
        if (apiKey != null && !apiKey.isEmpty()) b.header("Authorization", "Bearer " + apiKey);
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? parse(r.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Prometheus text format → metric name (labels dropped) → sum over its series. */
    public static Map<String, Double> parse(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int brace = line.indexOf('{'), space;
            String name;
            if (brace >= 0 && brace < line.indexOf(' ')) {
                name = line.substring(0, brace);
                space = line.indexOf(' ', line.lastIndexOf('}'));
            } else {
                space = line.indexOf(' ');
                name = space < 0 ? line : line.substring(0, space);
            }
            if (space < 0) continue;
            String[] rest = line.substring(space + 1).strip().split("\\s+");
            try {
                out.merge(name, Double.parseDouble(rest[0]), Double::sum);
            } catch (NumberFormatException ignored) {
                // a value we do not use (NaN is parsed; anything else is not Prometheus)
            }
        }
        return out;
    }

    /**
     * What happened between two scrapes; null when either is missing or neither naming is present.
     * One naming is read (vLLM's when the server serves both), never the two added up.
     */
    public static ServerMetricsView delta(Map<String, Double> before, Map<String, Double> after) {
        if (before == null || after == null) return null;
        for (String prefix : new String[] {"vllm:", "basalt:"}) {
            if (!after.containsKey(prefix + "generation_tokens_total")) continue;
            Diff d = new Diff(before, after, prefix);
            String itl = after.containsKey(prefix + "inter_token_latency_seconds_count") ? "inter_token_latency_seconds"
                    : "time_per_output_token_seconds";
            return new ServerMetricsView(prefix, (long) d.get("e2e_request_latency_seconds_count"), (long) d.get("prompt_tokens_total"),
                    (long) d.get("generation_tokens_total"), d.meanMs("time_to_first_token_seconds"), d.meanMs(itl),
                    d.meanMs("e2e_request_latency_seconds"));
        }
        return null;
    }

    private record Diff(Map<String, Double> before, Map<String, Double> after, String prefix) {
        double get(String name) {
            return after.getOrDefault(prefix + name, 0.0) - before.getOrDefault(prefix + name, 0.0);
        }

        Double meanMs(String histogram) {
            if (!after.containsKey(prefix + histogram + "_count")) return null;
            double n = get(histogram + "_count");
            return n > 0 ? get(histogram + "_sum") / n * 1000 : null;
        }
    }
}
