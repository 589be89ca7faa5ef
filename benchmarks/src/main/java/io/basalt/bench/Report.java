package io.basalt.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns measurements into figures next to the machine's limits: decode as bytes read per token ×
 * tokens/s against the read bandwidth; batched decode and prefill as FLOP/s against the FMA peak
 * (batched decode also against the bandwidth, since small batches are still bound by it).
 */
final class Report {
    private Report() {}

    /** One line of the table. */
    record Row(String model, String storage, String figure, String result, String perToken, String rate, String ofProbe) { }

    /** Decode: bytes read per second over the read bandwidth (null without accounting). */
    static Double decodeOfBandwidth(BenchReport.Decode d, MachineProbes.Result p) {
        return d.bytesPerToken() == null ? null : d.bytesPerToken() * d.tokPerSec() / (p.readGBs() * 1e9);
    }

    static Double aggregateOfPeak(BenchReport.Aggregate a, MachineProbes.Result p) {
        return a.flopsPerToken() == null ? null : a.flopsPerToken() * a.tokPerSec() / (p.fmaGflops() * 1e9);
    }

    static Double aggregateOfBandwidth(BenchReport.Aggregate a, MachineProbes.Result p) {
        return a.bytesPerStep() == null ? null : a.bytesPerStep() * (a.steps() / a.seconds()) / (p.readGBs() * 1e9);
    }

    static Double prefillOfPeak(BenchReport.Prefill f, MachineProbes.Result p) {
        return f.flops() == null ? null : f.flops() * f.rounds() / f.seconds() / (p.fmaGflops() * 1e9);
    }

    static List<Row> rows(BenchReport.ModelResult r, MachineProbes.Result p) {
        List<Row> rows = new ArrayList<>();
        String m = r.name(), s = r.storage() == null ? "-" : r.storage();
        if (r.ttftSeconds() != null) {
            String faults = r.ttftDiskFaults() == null || r.ttftDiskFaults() == 0 ? ""
                    : f("%d page faults read the disk", r.ttftDiskFaults());
            rows.add(new Row(m, s, "first token", f("%.2f s", r.ttftSeconds()), "", r.loadSeconds() == null ? "" : f("load %.2f s", r.loadSeconds()),
                    faults));
        }
        if (r.decode() != null) {
            BenchReport.Decode d = r.decode();
            Double of = decodeOfBandwidth(d, p);
            rows.add(new Row(m, s, "decode 1 stream", f("%.2f tok/s", d.tokPerSec()),
                    d.bytesPerToken() == null ? "" : f("%.1f MB", d.bytesPerToken() / 1e6),
                    d.bytesPerToken() == null ? "" : f("%.2f GB/s", d.bytesPerToken() * d.tokPerSec() / 1e9),
                    of == null ? "" : f("%.0f%% of read BW", 100 * of)));
        }
        for (BenchReport.Aggregate a : r.aggregate()) {
            Double peak = aggregateOfPeak(a, p), bw = aggregateOfBandwidth(a, p);
            rows.add(new Row(m, s, "decode C=" + a.concurrency(), f("%.1f tok/s", a.tokPerSec()),
                    a.flopsPerToken() == null ? "" : f("%.3f GFLOP", a.flopsPerToken() / 1e9),
                    a.flopsPerToken() == null ? "" : f("%.1f GFLOP/s", a.flopsPerToken() * a.tokPerSec() / 1e9),
                    peak == null ? "" : f("%.0f%% of FMA peak (%.0f%% of read BW)", 100 * peak, 100 * bw)));
        }
        if (r.prefill() != null) {
            BenchReport.Prefill f = r.prefill();
            Double of = prefillOfPeak(f, p);
            String figure = "prefill " + f.tokens() + (f.tokens() < f.requestedTokens() ? " (of " + f.requestedTokens() + ": time cap)" : "");
            rows.add(new Row(m, s, figure, f("%.1f tok/s", f.tokPerSec()),
                    f.flops() == null ? "" : f("%.3f GFLOP", f.flops() / f.tokens() / 1e9),
                    f.flops() == null ? "" : f("%.1f GFLOP/s", f.flops() * f.rounds() / f.seconds() / 1e9),
                    of == null ? "" : f("%.0f%% of FMA peak", 100 * of)));
        }
        if (r.peakRssBytes() != null) rows.add(new Row(m, s, "peak RSS", f("%.2f GB", r.peakRssBytes() / 1e9), "", "", ""));
        if (r.error() != null) rows.add(new Row(m, s, "FAILED", r.error(), "", "", ""));
        return rows;
    }

    /** The per-model summary printed as soon as its child JVM is done. */
    static void printModel(PrintStream out, BenchReport.ModelResult r, MachineProbes.Result p) {
        if (r.params() > 0) {
            out.printf(Locale.ROOT, "  %s: %s, %.1f M parameters%s, %s", r.name(), r.architecture(), r.params() / 1e6,
                    r.matrixParams() == null ? "" : f(" (%.1f M in matrices)", r.matrixParams() / 1e6), r.storage());
            out.println(r.weightBytesPerToken() == null ? "" : f(" (%.3g bytes/param): %.1f MB of weights read per decode token",
                    r.bytesPerParam(), r.weightBytesPerToken() / 1e6));
        }
        for (Row row : rows(r, p)) {
            out.println("    " + String.join("  ", List.of(row.figure(), row.result(), row.perToken(), row.rate(), row.ofProbe()).stream()
                    .filter(x -> !x.isEmpty()).toList()));
        }
        for (BenchReport.Aggregate a : r.aggregate()) {
            out.printf(Locale.ROOT, "    C=%d: %d timed steps of %.1f ms (%.1f ms in the model runner), context %.1f; "
                    + "other processes kept %.2f cores busy%n", a.concurrency(), a.steps(), a.stepMs(), a.executeMs(), a.ctxAvg(), a.otherCores());
        }
    }

    static void printTable(PrintStream out, List<BenchReport.ModelResult> results, MachineProbes.Result p) {
        out.println("machine (the better of the two probe runs): " + MachineProbes.describe(p));
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("model", "storage", "figure", "result", "per token", "rate", "of the machine"));
        for (BenchReport.ModelResult r : results) rows.addAll(rows(r, p));
        int[] w = new int[6];
        for (Row row : rows) {
            String[] c = cells(row);
            for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], c[i].length());
        }
        for (Row row : rows) {
            String[] c = cells(row);
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < c.length; i++) {
                boolean numeric = i == 3 || i == 4 || i == 5;
                String cell = i < w.length ? (numeric ? pad(c[i], w[i], true) : pad(c[i], w[i], false)) : c[i];
                line.append(cell).append(i < c.length - 1 ? "  " : "");
            }
            out.println(line.toString().stripTrailing());
        }
        out.println("decode: weights (every matrix incl. lm_head at the storage's bytes/param, norms, one embedding row) + fp32 KV at"
                + " the measured context, per token, × tok/s ÷ read BW.");
        out.println("C=N and prefill: (2 × matrix params + attention 4·layers·dim·ctx) per token × tok/s ÷ FMA peak; prefill computes"
                + " the lm_head for its last token only. C=N's read BW share: weights once per step + every sequence's KV.");
    }

    private static String[] cells(Row r) {
        return new String[] {r.model(), r.storage(), r.figure(), r.result(), r.perToken(), r.rate(), r.ofProbe()};
    }

    private static String pad(String s, int width, boolean right) {
        if (s.length() >= width) return s;
        String spaces = " ".repeat(width - s.length());
        return right ? spaces + s : s + spaces;
    }

    private static String f(String format, Object... args) { return String.format(Locale.ROOT, format, args); }
}
