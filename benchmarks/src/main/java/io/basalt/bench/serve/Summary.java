package io.basalt.bench.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The aggregate figures of one run, as vLLM's {@code bench serve} defines them: throughputs divide by
 * the run's duration (first send to last response), token totals and latencies cover successful
 * requests only, TPOT excludes the first token and requests with one output token, goodput counts
 * successful requests meeting every SLO. Peak concurrency is the most requests in flight at once.
 */
public record Summary(String tokenSource, int completed, int failed, Map<String, Integer> errors, double durationS,
                      long totalInputTokens, long totalOutputTokens, double requestThroughput, Double goodput,
                      double outputThroughput, double totalTokenThroughput, int peakConcurrency,
                      Stats ttftMs, Stats tpotMs, Stats itlMs, Stats e2eMs) {

    public static Summary of(List<RequestRecord> records, double durationS, String tokenSource, List<Double> percentiles, Slo slo) {
        int completed = 0, good = 0;
        long in = 0, out = 0;
        Map<String, Integer> errors = new TreeMap<>();
        List<Double> ttft = new ArrayList<>(), tpot = new ArrayList<>(), itl = new ArrayList<>(), e2e = new ArrayList<>();
        for (RequestRecord r : records) {
            if (!r.ok()) {
                errors.merge(r.error(), 1, Integer::sum);
                continue;
            }
            completed++;
            in += Math.max(0, r.promptTokens());
            out += Math.max(0, r.outputTokens());
            if (r.ttftMs() != null) ttft.add(r.ttftMs());
            if (r.outputTokens() > 1) tpot.add(r.tpotMs());
            for (double g : r.itlMs()) itl.add(g);
            e2e.add(r.e2eMs());
            if (!slo.isEmpty() && slo.met(r)) good++;
        }
        double d = durationS > 0 ? durationS : Double.NaN;
        return new Summary(tokenSource, completed, records.size() - completed, errors, durationS, in, out, completed / d,
                slo.isEmpty() ? null : good / d, out / d, (in + out) / d, peakConcurrency(records),
                Stats.of(array(ttft), percentiles), Stats.of(array(tpot), percentiles), Stats.of(array(itl), percentiles),
                Stats.of(array(e2e), percentiles));
    }

    /** The most requests in flight at any instant (an end at the same time as a start frees its slot first). */
    static int peakConcurrency(List<RequestRecord> records) {
        double[][] events = new double[records.size() * 2][];
        int i = 0;
        for (RequestRecord r : records) {
            events[i++] = new double[] {r.startS(), 1};
            events[i++] = new double[] {r.endS(), -1};
        }
        java.util.Arrays.sort(events, (a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(a[1], b[1]));
        int now = 0, peak = 0;
        for (double[] e : events) peak = Math.max(peak, now += (int) e[1]);
        return peak;
    }

    private static double[] array(List<Double> values) { return values.stream().mapToDouble(Double::doubleValue).toArray(); }
}
