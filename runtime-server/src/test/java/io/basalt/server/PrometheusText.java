package io.basalt.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The Prometheus text format read back the way a scraper reads it: # TYPE lines and samples with their labels. */
public record PrometheusText(Map<String, String> types, List<Sample> samples) {
    public record Sample(String name, Map<String, String> labels, double value) { }

    /** What Kubernetes' inference gateway (GIE / llm-d endpoint picker), the production-stack router and KServe's examples read. */
    public static final Map<String, String> PICKER_METRICS = Map.of(
            "vllm:num_requests_waiting", "gauge",
            "vllm:num_requests_running", "gauge",
            "vllm:kv_cache_usage_perc", "gauge",
            "vllm:gpu_cache_usage_perc", "gauge",
            "vllm:cache_config_info", "gauge");

    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    public static PrometheusText parse(String text) {
        Map<String, String> types = new LinkedHashMap<>();
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            if (line.startsWith("# TYPE ")) {
                String[] p = line.substring(7).split(" ");
                types.put(p[0], p[1]);
                continue;
            }
            if (line.startsWith("#")) continue;
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) throw new AssertionError("not a Prometheus sample line: " + line);
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) labels.put(l.group(1), l.group(2));
            }
            samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
        }
        return new PrometheusText(types, samples);
    }

    public List<Sample> series(String name) { return samples.stream().filter(s -> s.name().equals(name)).toList(); }

    /** The one sample of {@code name}; fails when there are none or several (a picker reads one series, never a sum). */
    public Sample single(String name) {
        List<Sample> s = series(name);
        assertEquals(1, s.size(), name + " must be exactly one series, got " + s);
        return s.getFirst();
    }

    /** The value of a histogram's cumulative bucket {@code le}. */
    public double bucket(String histogram, String le) {
        for (Sample s : series(histogram + "_bucket")) if (le.equals(s.labels().get("le"))) return s.value();
        throw new AssertionError("no bucket le=" + le + " of " + histogram);
    }

    public String type(String name) {
        String t = types.get(name);
        assertNotNull(t, "no # TYPE line for " + name);
        return t;
    }
}
