package io.basalt.bench.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A line chart as a standalone SVG file (no plotting library): title, both axes with ticks, units in
 * the axis labels, a legend on the right. Series keep their own x values; tick labels can be given
 * explicitly (a sweep's "inf" rate sits on its own tick).
 */
public final class SvgChart {
    /** A named line; markers for sparse data (sweep points), none for dense curves (CDFs). */
    public record Series(String name, double[] x, double[] y, boolean markers) { }

    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    private static final String[] DASHES = {"", "6,3", "2,3", "8,3,2,3"};
    private static final int W = 860, H = 520, LEFT = 80, RIGHT = 230, TOP = 50, BOTTOM = 64;

    private final String title, xLabel, yLabel;
    private double[] xTicks;
    private String[] xTickLabels;

    public SvgChart(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** Fixed x ticks with their labels instead of evenly spaced round numbers. */
    public SvgChart xTicks(double[] values, String[] labels) {
        this.xTicks = values.clone();
        this.xTickLabels = labels.clone();
        return this;
    }

    public String render(List<Series> series) {
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double v : s.x()) if (Double.isFinite(v)) { x0 = Math.min(x0, v); x1 = Math.max(x1, v); }
            for (double v : s.y()) if (Double.isFinite(v)) y1 = Math.max(y1, v);
        }
        if (xTicks != null) for (double v : xTicks) { x0 = Math.min(x0, v); x1 = Math.max(x1, v); }
        if (!Double.isFinite(x0)) { x0 = 0; x1 = 1; }
        if (!Double.isFinite(y1) || y1 <= 0) y1 = 1;
        x0 = Math.min(0, x0);
        double xStep = niceStep(x1 - x0), yStep = niceStep(y1);
        if (xTicks == null) x1 = Math.ceil(x1 / xStep) * xStep;
        else x1 = x1 + (x1 - x0) * 0.04;
        y1 = Math.ceil(y1 / yStep - 1e-9) * yStep; // a CDF ends at 1, not on an extra tick
        if (x1 <= x0) x1 = x0 + 1;
        double fx0 = x0, fx1 = x1, fy1 = y1;
        int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
        // The canvas widens for long legend names (about 7 px a character at 12 px) so none is cut off.
        int longest = series.stream().mapToInt(s -> s.name().length()).max().orElse(0);
        int width = Math.max(W, LEFT + pw + 56 + (int) Math.ceil(7.0 * longest));
        java.util.function.DoubleUnaryOperator px = v -> LEFT + (v - fx0) / (fx1 - fx0) * pw;
        java.util.function.DoubleUnaryOperator py = v -> TOP + ph - v / fy1 * ph;

        StringBuilder b = new StringBuilder();
        b.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n", width, H, width, H));
        b.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, H));
        text(b, W / 2.0 - RIGHT / 2.0, 28, "middle", 16, title, "");
        // grid, ticks and tick labels
        for (double v = 0; v <= fy1 + yStep / 2; v += yStep) {
            double y = py.applyAsDouble(v);
            line(b, LEFT, y, LEFT + pw, y, "#e0e0e0");
            text(b, LEFT - 6, y + 4, "end", 11, number(v, yStep), "");
        }
        List<double[]> ticks = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        if (xTicks != null) {
            for (int i = 0; i < xTicks.length; i++) { ticks.add(new double[] {xTicks[i]}); labels.add(xTickLabels[i]); }
        } else {
            for (double v = fx0; v <= fx1 + xStep / 2; v += xStep) { ticks.add(new double[] {v}); labels.add(number(v, xStep)); }
        }
        for (int i = 0; i < ticks.size(); i++) {
            double x = px.applyAsDouble(ticks.get(i)[0]);
            line(b, x, TOP, x, TOP + ph, "#f0f0f0");
            line(b, x, TOP + ph, x, TOP + ph + 5, "black");
            text(b, x, TOP + ph + 18, "middle", 11, labels.get(i), "");
        }
        line(b, LEFT, TOP + ph, LEFT + pw, TOP + ph, "black");
        line(b, LEFT, TOP, LEFT, TOP + ph, "black");
        text(b, LEFT + pw / 2.0, H - 18, "middle", 13, xLabel, "");
        text(b, 0, 0, "middle", 13, yLabel, String.format(Locale.ROOT, " transform=\"translate(20,%.1f) rotate(-90)\"", TOP + ph / 2.0));
        // series and legend
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String color = COLORS[i % COLORS.length], dash = DASHES[(i / COLORS.length) % DASHES.length];
            StringBuilder pts = new StringBuilder();
            for (int k = 0; k < s.x().length; k++) {
                if (!Double.isFinite(s.x()[k]) || !Double.isFinite(s.y()[k])) continue;
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px.applyAsDouble(s.x()[k]), py.applyAsDouble(s.y()[k])));
                if (s.markers()) {
                    b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
                            px.applyAsDouble(s.x()[k]), py.applyAsDouble(s.y()[k]), color));
                }
            }
            b.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"%s\"/>\n", color,
                    dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"", pts.toString().trim()));
            double ly = TOP + 10 + i * 20;
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                    LEFT + pw + 16, ly, LEFT + pw + 40, ly, color, dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\""));
            text(b, LEFT + pw + 46, ly + 4, "start", 12, s.name(), "");
        }
        b.append("</svg>\n");
        return b.toString();
    }

    static double niceStep(double range) {
        if (!(range > 0)) return 1;
        double raw = range / 6, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
    }

    private static String number(double v, double step) {
        if (Math.abs(v) < step * 1e-9) return "0";
        if (step >= 1 && v == Math.rint(v)) return Long.toString((long) v);
        int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step)) + (step * Math.pow(10, Math.ceil(-Math.log10(step))) % 1 == 0 ? 0 : 1));
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static void line(StringBuilder b, double x1, double y1, double x2, double y2, String color) {
        b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x1, y1, x2, y2, color));
    }

    private static void text(StringBuilder b, double x, double y, String anchor, int size, String s, String extra) {
        b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s>%s</text>\n", x, y, anchor, size,
                extra, escape(s)));
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
