package io.basalt.bench.serve;

import java.nio.file.Path;
import java.util.List;

/**
 * The summary file of a sweep: one point per rate or concurrency, each with its summary and the
 * name of its full results file (beside this one).
 *
 * @param axis "rate" or "concurrency"
 */
public record SweepResult(String label, String axis, List<Point> points) {
    /** @param value as given ("4", "inf"); x its position on the axis (inf: +Infinity) */
    public record Point(String value, double x, String file, Summary summary, ServerMetricsView server) { }

    public void write(Path file) { BenchResult.writeJson(file, this); }

    public static SweepResult read(Path file) { return BenchResult.readJson(file, SweepResult.class); }

    /**
     * The load at which throughput stops growing: the first point whose output throughput is within
     * 5% of the best of the sweep (points after it add latency, not throughput); null when empty.
     */
    public Point saturation() {
        double best = points.stream().mapToDouble(p -> p.summary().outputThroughput()).filter(Double::isFinite).max().orElse(Double.NaN);
        for (Point p : points) if (p.summary().outputThroughput() >= 0.95 * best) return p;
        return null;
    }
}
