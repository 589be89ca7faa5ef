package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * {@code bench compare}: results of several deployments (single runs or sweeps) side by side, cost
 * per million output tokens from each deployment's hourly price, and SVG plots: latency CDFs,
 * throughput against offered load, latency against throughput.
 */
public final class Compare {
    private Compare() {}

    /**
     * One measured point of one deployment.
     *
     * @param axis    "rate" or "concurrency": what the load was set by
     * @param x       the rate or concurrency (rate inf: +Infinity)
     * @param records the raw requests, or null when the point's file is not at hand
     */
    public record Column(String deployment, String point, String axis, double x, Summary summary, List<RequestRecord> records) {
        String name() { return point == null ? deployment : deployment + " @ " + point; }
    }

    /** Reads a results file of {@code bench serve} or a sweep summary of {@code bench sweep}. */
    public static List<Column> load(Path file) {
        JsonNode tree;
        try {
            tree = BenchResult.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": " + (Files.exists(file) ? "not JSON" : "no such file"));
        }
        List<Column> out = new ArrayList<>();
        if (tree != null && tree.has("points")) {
            SweepResult s = SweepResult.read(file);
            for (SweepResult.Point p : s.points()) {
                Path f = file.toAbsolutePath().resolveSibling(p.file());
                List<RequestRecord> records = Files.isRegularFile(f) ? BenchResult.read(f).requests() : null;
                out.add(new Column(s.label(), s.axis() + "=" + p.value(), s.axis(), p.value().equals("inf") ? Double.POSITIVE_INFINITY : p.x(),
                        p.summary(), records));
            }
        } else {
            BenchResult r = BenchResult.read(file);
            if (r.summary() == null) throw new IllegalArgumentException(file + ": not a results file of basalt bench serve or sweep");
            Object rate = r.config().get("request_rate"), conc = r.config().get("max_concurrency");
            boolean byConcurrency = "inf".equals(String.valueOf(rate)) && conc != null;
            double x = byConcurrency ? ((Number) conc).doubleValue()
                    : "inf".equals(String.valueOf(rate)) ? Double.POSITIVE_INFINITY : ((Number) rate).doubleValue();
            out.add(new Column(r.label(), null, byConcurrency ? "concurrency" : "rate", x, r.summary(), r.requests()));
        }
        return out;
    }

    /** Labels made unique (a second "vllm" becomes "vllm#2"), so prices and legends stay unambiguous. */
    static List<Column> uniqueLabels(List<List<Column>> files) {
        Map<String, Integer> seen = new LinkedHashMap<>();
        List<Column> out = new ArrayList<>();
        for (List<Column> cols : files) {
            if (cols.isEmpty()) continue;
            String label = cols.getFirst().deployment();
            int n = seen.merge(label, 1, Integer::sum);
            for (Column c : cols) {
                out.add(n == 1 ? c : new Column(label + "#" + n, c.point(), c.axis(), c.x(), c.summary(), c.records()));
            }
        }
        return out;
    }

    /** $ per million output tokens at this throughput; NaN without a price or throughput. */
    public static double costPerMillion(Double usdPerHour, double tokensPerSecond) {
        if (usdPerHour == null || !(tokensPerSecond > 0)) return Double.NaN;
        return usdPerHour / 3600 / tokensPerSecond * 1e6;
    }

    /** Prints the table and writes the plots into outDir; returns the files written. */
    public static List<Path> run(List<Path> files, Map<String, Double> prices, Path outDir, List<Double> percentiles, PrintStream out) {
        List<List<Column>> loaded = new ArrayList<>();
        for (Path f : files) loaded.add(load(f));
        List<Column> cols = uniqueLabels(loaded);
        for (String name : prices.keySet()) {
            if (cols.stream().noneMatch(c -> c.deployment().equals(name))) {
                throw new IllegalArgumentException("--price " + name + ": no result has that label (labels: "
                        + String.join(", ", cols.stream().map(Column::deployment).distinct().toList()) + ")");
            }
        }
        table(cols, prices, percentiles, out);
        return plots(cols, outDir);
    }

    static void table(List<Column> cols, Map<String, Double> prices, List<Double> percentiles, PrintStream out) {
        List<String[]> rows = new ArrayList<>();
        row(rows, cols, "Successful requests", c -> String.valueOf(c.summary().completed()));
        row(rows, cols, "Failed requests", c -> String.valueOf(c.summary().failed()));
        row(rows, cols, "Duration (s)", c -> f(c.summary().durationS()));
        row(rows, cols, "Request throughput (req/s)", c -> f(c.summary().requestThroughput()));
        row(rows, cols, "Goodput (req/s)", c -> c.summary().goodput() == null ? "-" : f(c.summary().goodput()));
        row(rows, cols, "Output throughput (tok/s)", c -> f(c.summary().outputThroughput()));
        row(rows, cols, "Total throughput (tok/s)", c -> f(c.summary().totalTokenThroughput()));
        row(rows, cols, "Peak concurrency", c -> String.valueOf(c.summary().peakConcurrency()));
        for (String[] m : new String[][] {{"TTFT", "ttft"}, {"TPOT", "tpot"}, {"ITL", "itl"}, {"E2EL", "e2e"}}) {
            row(rows, cols, "Mean " + m[0] + " (ms)", c -> f(stats(c.summary(), m[1]).mean()));
            row(rows, cols, "Median " + m[0] + " (ms)", c -> f(stats(c.summary(), m[1]).median()));
            for (double p : percentiles) {
                row(rows, cols, Stats.key(p).toUpperCase(Locale.ROOT) + " " + m[0] + " (ms)", c -> f(stats(c.summary(), m[1]).percentile(p)));
            }
        }
        if (!prices.isEmpty()) {
            row(rows, cols, "Price ($/h)", c -> usd(prices.get(c.deployment())));
            row(rows, cols, "$ per 1M output tokens", c -> usd(costPerMillion(prices.get(c.deployment()), c.summary().outputThroughput())));
            row(rows, cols, "$ per 1M total tokens", c -> usd(costPerMillion(prices.get(c.deployment()), c.summary().totalTokenThroughput())));
        }
        int first = 30;
        int[] width = new int[cols.size()];
        for (int i = 0; i < cols.size(); i++) {
            width[i] = Math.max(12, cols.get(i).name().length() + 2);
            for (String[] r : rows) width[i] = Math.max(width[i], r[i + 1].length() + 2);
        }
        StringBuilder head = new StringBuilder(String.format("%-" + first + "s", ""));
        for (int i = 0; i < cols.size(); i++) head.append(String.format("%" + width[i] + "s", cols.get(i).name()));
        out.println(head);
        out.println("-".repeat(head.length()));
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder(String.format("%-" + first + "s", r[0]));
            for (int i = 0; i < cols.size(); i++) line.append(String.format("%" + width[i] + "s", r[i + 1]));
            out.println(line);
        }
    }

    private static void row(List<String[]> rows, List<Column> cols, String label, Function<Column, String> value) {
        String[] r = new String[cols.size() + 1];
        r[0] = label;
        for (int i = 0; i < cols.size(); i++) r[i + 1] = value.apply(cols.get(i));
        rows.add(r);
    }

    static Stats stats(Summary s, String metric) {
        return switch (metric) {
            case "ttft" -> s.ttftMs();
            case "tpot" -> s.tpotMs();
            case "itl" -> s.itlMs();
            default -> s.e2eMs();
        };
    }

    /** Latency CDFs (points with raw records), throughput against load, and latency against throughput. */
    static List<Path> plots(List<Column> cols, Path dir) {
        List<Path> written = new ArrayList<>();
        String[][] cdfs = {{"ttft", "Time to first token"}, {"tpot", "Time per output token"}, {"itl", "Inter-token latency"},
                {"e2e", "End-to-end latency"}};
        for (String[] m : cdfs) {
            List<SvgChart.Series> series = new ArrayList<>();
            for (Column c : cols) {
                if (c.records() == null) continue;
                double[] v = values(c.records(), m[0]);
                if (v.length > 0) series.add(cdf(c.name(), v));
            }
            if (!series.isEmpty()) {
                written.add(write(dir.resolve("cdf-" + m[0] + ".svg"), new SvgChart(m[1] + ": CDF", m[1] + " (ms)",
                        "fraction of requests" + (m[0].equals("itl") ? " (token gaps)" : "")).render(series)));
            }
        }
        for (String axis : new String[] {"rate", "concurrency"}) {
            List<Column> onAxis = cols.stream().filter(c -> c.axis().equals(axis)).toList();
            if (onAxis.isEmpty()) continue;
            double[] xs = onAxis.stream().mapToDouble(Column::x).filter(Double::isFinite).distinct().sorted().toArray();
            // Sweeps usually double the load: a log axis keeps 1, 2, 4 apart; "inf" sits one step past the largest.
            boolean log = xs.length > 1 && xs[0] > 0 && xs[xs.length - 1] / xs[0] >= 8;
            java.util.function.DoubleUnaryOperator pos = v -> log ? Math.log(v) / Math.log(2) : v;
            double last = xs.length == 0 ? 0 : pos.applyAsDouble(xs[xs.length - 1]);
            double infAt = log ? last + 1 : xs.length == 0 ? 1 : last * 1.5 + (xs.length > 1 ? 0 : 1);
            boolean anyInf = onAxis.stream().anyMatch(c -> Double.isInfinite(c.x()));
            double[] tickX = new double[xs.length + (anyInf ? 1 : 0)];
            String[] tickLabels = new String[tickX.length];
            for (int i = 0; i < xs.length; i++) { tickX[i] = pos.applyAsDouble(xs[i]); tickLabels[i] = trim(xs[i]); }
            if (anyInf) { tickX[xs.length] = infAt; tickLabels[xs.length] = "inf"; }
            String xLabel = (axis.equals("rate") ? "request rate (req/s, Poisson)" : "max concurrency (requests)") + (log ? ", log scale" : "");
            written.add(write(dir.resolve("throughput-vs-" + axis + ".svg"), new SvgChart("Output throughput vs " + (axis.equals("rate")
                    ? "request rate" : "concurrency"), xLabel, "output throughput (tok/s)").xTicks(tickX, tickLabels)
                    .render(byDeployment(onAxis, c -> Double.isInfinite(c.x()) ? infAt : pos.applyAsDouble(c.x()),
                            c -> c.summary().outputThroughput()))));
        }
        written.add(write(dir.resolve("tpot-vs-throughput.svg"), new SvgChart("Mean time per output token vs throughput",
                "output throughput (tok/s)", "mean TPOT (ms)").render(byDeployment(cols, c -> c.summary().outputThroughput(),
                c -> c.summary().tpotMs().mean()))));
        written.add(write(dir.resolve("ttft-vs-throughput.svg"), new SvgChart("P99 time to first token vs throughput",
                "output throughput (tok/s)", "P99 TTFT (ms)").render(byDeployment(cols, c -> c.summary().outputThroughput(),
                c -> Stats.percentile(sorted(c, "ttft"), 99)))));
        return written;
    }

    /** P99 from the raw records when present (any --percentiles), else the summary's own p99 or NaN. */
    private static double[] sorted(Column c, String metric) {
        if (c.records() != null) {
            double[] v = values(c.records(), metric);
            Arrays.sort(v);
            return v;
        }
        double p99 = stats(c.summary(), metric).percentile(99);
        return Double.isNaN(p99) ? new double[0] : new double[] {p99};
    }

    private static List<SvgChart.Series> byDeployment(List<Column> cols, ToDoubleFunction<Column> x, ToDoubleFunction<Column> y) {
        Map<String, List<Column>> groups = new LinkedHashMap<>();
        for (Column c : cols) groups.computeIfAbsent(c.deployment(), k -> new ArrayList<>()).add(c);
        List<SvgChart.Series> out = new ArrayList<>();
        groups.forEach((name, cs) -> {
            // Points join in the order the load rose (rate or concurrency; inf last), so a latency-vs-
            // throughput curve bends back where more load stopped buying throughput instead of zigzagging.
            List<Column> ordered = new ArrayList<>(cs);
            ordered.sort((a, b) -> Double.compare(a.x(), b.x()));
            out.add(new SvgChart.Series(name, ordered.stream().mapToDouble(x).toArray(), ordered.stream().mapToDouble(y).toArray(), true));
        });
        return out;
    }

    static double[] values(List<RequestRecord> records, String metric) {
        List<Double> v = new ArrayList<>();
        for (RequestRecord r : records) {
            if (!r.ok()) continue;
            switch (metric) {
                case "ttft" -> { if (r.ttftMs() != null) v.add(r.ttftMs()); }
                case "tpot" -> { if (r.outputTokens() > 1) v.add(r.tpotMs()); }
                case "itl" -> { for (double g : r.itlMs()) v.add(g); }
                default -> v.add(r.e2eMs());
            }
        }
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The empirical CDF as a step line, thinned to at most ~1000 points. */
    static SvgChart.Series cdf(String name, double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int step = Math.max(1, v.length / 1000);
        List<double[]> pts = new ArrayList<>();
        pts.add(new double[] {v[0], 0});
        for (int i = 0; i < v.length; i += step) pts.add(new double[] {v[i], (i + 1) / (double) v.length});
        pts.add(new double[] {v[v.length - 1], 1});
        return new SvgChart.Series(name, pts.stream().mapToDouble(p -> p[0]).toArray(), pts.stream().mapToDouble(p -> p[1]).toArray(), false);
    }

    private static Path write(Path file, String svg) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, svg, StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static String trim(double v) { return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.3g", v); }

    private static String f(Double v) { return ResultTable.f(v); }

    /** Dollars: cents above $1, four decimals below (cheap small models would all print 0.00). */
    static String usd(Double v) {
        if (v == null || v.isNaN()) return "-";
        return String.format(Locale.ROOT, v >= 1 ? "%.2f" : "%.4f", v);
    }
}
