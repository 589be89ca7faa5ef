package io.basalt.parity;

import java.util.List;
import java.util.Locale;

/**
 * A hand-written SVG line chart for the HTML report: x is an index (layer or position), y linear or
 * log10 (drift spans decades), with axes, ticks, axis titles with units and a legend. Zeros and
 * negative values on a log axis are drawn at the axis floor.
 */
final class SvgChart {
    /** One line: its name in the legend and its y value at x = 0, 1, 2, … */
    record Series(String name, double[] y) { }

    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
    private static final int W = 720;
    private static final int H = 320;
    private static final int LEFT = 80;
    private static final int RIGHT = 180;
    private static final int TOP = 30;
    private static final int BOTTOM = 50;

    private SvgChart() {}

    static String lineChart(String title, String xLabel, String yLabel, List<Series> series, boolean logY) {
        int n = 0;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            n = Math.max(n, s.y().length);
            for (double v : s.y()) {
                if (!Double.isFinite(v) || (logY && v <= 0)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (lo > hi) { lo = logY ? 1e-8 : 0; hi = logY ? 1 : 1; }
        double y0;
        double y1;
        if (logY) {
            y0 = Math.floor(Math.log10(lo));
            y1 = Math.max(Math.ceil(Math.log10(hi)), y0 + 1);
        } else {
            y0 = Math.min(0, lo);
            y1 = hi > y0 ? hi * 1.05 : y0 + 1;
        }
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        int xMax = Math.max(1, n - 1);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"11\">%n", W, H, W, H));
        sb.append(text(W / 2.0 - RIGHT / 2.0, 18, "middle", 13, title));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>%n", LEFT, TOP, plotW, plotH));
        // y ticks: decades on a log axis, five steps on a linear one
        int steps = logY ? (int) (y1 - y0) : 5;
        int every = Math.max(1, steps / 8);
        for (int i = 0; i <= steps; i += every) {
            double t = y0 + (y1 - y0) * i / steps;
            double py = TOP + plotH - plotH * (t - y0) / (y1 - y0);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n", LEFT, LEFT + plotW, py, py));
            sb.append(text(LEFT - 6, py + 4, "end", 11, logY ? "1e" + (int) Math.round(t) : Numbers.format(t)));
        }
        for (int x = 0; x <= xMax; x += niceStep(xMax / 8.0)) {
            double px = LEFT + (double) plotW * x / xMax;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", px, px, TOP + plotH, TOP + plotH + 4));
            sb.append(text(px, TOP + plotH + 16, "middle", 11, Integer.toString(x)));
        }
        sb.append(text(LEFT + plotW / 2.0, H - 10, "middle", 12, xLabel));
        sb.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 %.1f)\">%s</text>%n",
                TOP + plotH / 2.0, TOP + plotH / 2.0, Html.escape(yLabel)));
        for (int s = 0; s < series.size(); s++) {
            Series ser = series.get(s);
            String color = COLORS[s % COLORS.length];
            StringBuilder pts = new StringBuilder();
            for (int x = 0; x < ser.y().length; x++) {
                double v = ser.y()[x];
                double t = logY ? (v > 0 && Double.isFinite(v) ? Math.log10(v) : y0) : (Double.isFinite(v) ? v : y1);
                t = Math.max(y0, Math.min(y1, t));
                double px = LEFT + (double) plotW * x / xMax;
                double py = TOP + plotH - plotH * (t - y0) / (y1 - y0);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
            }
            sb.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>%n", color, pts.toString().strip()));
            if (ser.y().length <= 64) {
                for (String p : pts.toString().strip().split(" ")) {
                    if (p.isEmpty()) continue;
                    String[] xy = p.split(",");
                    sb.append(String.format(Locale.ROOT, "<circle cx=\"%s\" cy=\"%s\" r=\"2.5\" fill=\"%s\"/>%n", xy[0], xy[1], color));
                }
            }
            double ly = TOP + 10 + 18 * s;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>%n",
                    LEFT + plotW + 12, LEFT + plotW + 32, ly, ly, color));
            sb.append(text(LEFT + plotW + 38, ly + 4, "start", 11, ser.name()));
        }
        return sb.append("</svg>\n").toString();
    }

    /** The smallest of 1, 2, 5 × 10^k that is at least {@code raw} (whole numbers: x is an index). */
    static int niceStep(double raw) {
        if (raw <= 1) return 1;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        for (int m : new int[] {1, 2, 5, 10}) if (m * mag >= raw) return (int) (m * mag);
        return (int) (10 * mag);
    }

    private static String text(double x, double y, String anchor, int size, String s) {
        return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">%s</text>%n", x, y, anchor, size, Html.escape(s));
    }
}
