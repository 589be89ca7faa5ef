package io.basalt.bench.serve;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Distribution of one latency metric in milliseconds. Percentiles interpolate linearly between the
 * two nearest ranks (numpy's default, which vLLM's numbers use), keyed "p50", "p99", "p99.9".
 */
public record Stats(int n, double mean, double median, double std, double min, double max, Map<String, Double> percentiles) {
    public static Stats of(double[] values, List<Double> percentiles) {
        double[] v = values.clone();
        Arrays.sort(v);
        Map<String, Double> pct = new LinkedHashMap<>();
        for (double p : percentiles) pct.put(key(p), percentile(v, p));
        if (v.length == 0) return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, pct);
        double sum = 0;
        for (double x : v) sum += x;
        double mean = sum / v.length, ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        return new Stats(v.length, mean, percentile(v, 50), Math.sqrt(ss / v.length), v[0], v[v.length - 1], pct);
    }

    /** Linear interpolation at rank p/100·(n−1) of sorted values; NaN when empty. */
    public static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        double rank = p / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(rank), hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    public static String key(double p) {
        return "p" + (p == Math.rint(p) ? Long.toString((long) p) : String.format(Locale.ROOT, "%s", p));
    }

    public double percentile(double p) {
        Double v = percentiles.get(key(p));
        return v != null ? v : Double.NaN;
    }
}
