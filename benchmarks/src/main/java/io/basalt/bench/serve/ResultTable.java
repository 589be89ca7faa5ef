package io.basalt.bench.serve;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The short stdout report, laid out as vLLM's {@code bench serve} prints it (labels 40 wide, 50-character rulers). */
public final class ResultTable {
    private ResultTable() {}

    public static void print(PrintStream out, BenchResult r, List<Double> percentiles) {
        Summary s = r.summary();
        out.println(ruler(" Serving Benchmark Result ", '='));
        row(out, "Label:", r.label());
        row(out, "Successful requests:", Integer.toString(s.completed()));
        row(out, "Failed requests:", Integer.toString(s.failed()));
        s.errors().forEach((k, v) -> row(out, "  " + k + ":", Integer.toString(v)));
        Object conc = r.config().get("max_concurrency");
        row(out, "Maximum request concurrency:", conc == null ? "none" : conc.toString());
        row(out, "Request rate configured (RPS):", String.valueOf(r.config().get("request_rate")));
        row(out, "Benchmark duration (s):", f(s.durationS()));
        row(out, "Total input tokens:", Long.toString(s.totalInputTokens()));
        row(out, "Total generated tokens:", Long.toString(s.totalOutputTokens()));
        row(out, "Tokens counted by:", s.tokenSource());
        row(out, "Request throughput (req/s):", f(s.requestThroughput()));
        if (s.goodput() != null) row(out, "Request goodput (req/s):", f(s.goodput()) + " (" + r.config().get("slo") + ")");
        row(out, "Output token throughput (tok/s):", f(s.outputThroughput()));
        row(out, "Total token throughput (tok/s):", f(s.totalTokenThroughput()));
        row(out, "Peak concurrent requests:", Integer.toString(s.peakConcurrency()));
        stats(out, "Time to First Token", "TTFT", s.ttftMs(), percentiles);
        stats(out, "Time per Output Token (excl. 1st token)", "TPOT", s.tpotMs(), percentiles);
        stats(out, "Inter-token Latency", "ITL", s.itlMs(), percentiles);
        stats(out, "End-to-end Latency", "E2EL", s.e2eMs(), percentiles);
        ServerMetricsView m = r.server();
        if (m != null) {
            out.println(ruler("Server /metrics (" + m.prefix() + " delta)", '-'));
            row(out, "Requests finished (server):", Long.toString(m.requests()));
            row(out, "Prompt tokens (server | client):", m.promptTokens() + " | " + s.totalInputTokens());
            row(out, "Generated tokens (server | client):", m.generationTokens() + " | " + s.totalOutputTokens());
            row(out, "Mean TTFT ms (server | client):", f(m.ttftMeanMs()) + " | " + f(s.ttftMs().mean()));
            row(out, "Mean ITL ms (server | client):", f(m.itlMeanMs()) + " | " + f(s.itlMs().mean()));
            row(out, "Mean E2EL ms (server | client):", f(m.e2eMeanMs()) + " | " + f(s.e2eMs().mean()));
        }
        out.println("=".repeat(50));
    }

    private static void stats(PrintStream out, String title, String name, Stats st, List<Double> percentiles) {
        out.println(ruler(title, '-'));
        row(out, "Mean " + name + " (ms):", f(st.mean()));
        row(out, "Median " + name + " (ms):", f(st.median()));
        for (double p : percentiles) row(out, Stats.key(p).toUpperCase(Locale.ROOT) + " " + name + " (ms):", f(st.percentile(p)));
    }

    static String ruler(String title, char c) {
        int left = Math.max(0, (50 - title.length()) / 2), right = Math.max(0, 50 - title.length() - left);
        return String.valueOf(c).repeat(left) + title + String.valueOf(c).repeat(right);
    }

    private static void row(PrintStream out, String label, String value) { out.printf(Locale.ROOT, "%-40s%10s%n", label, value); }

    static String f(Double v) { return v == null || v.isNaN() ? "-" : String.format(Locale.ROOT, "%.2f", v); }
}
