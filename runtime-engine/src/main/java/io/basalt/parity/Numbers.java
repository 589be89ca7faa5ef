package io.basalt.parity;

import java.util.Locale;

/**
 * How reports print numbers: 4 significant digits without trailing zeros, scientific below 0.01,
 * and values just under 1 (cosines, agreements) as {@code 1 − d} once 4 digits would round them to 1.
 */
final class Numbers {
    private Numbers() {}

    static String format(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        if (v == 0) return "0";
        double a = Math.abs(v);
        if (v > 0.9999 && v < 1) return "1 − " + scientific(1 - v);
        if (a < 1e-2 || a >= 1e6) return scientific(v);
        return strip(String.format(Locale.ROOT, "%.4g", v));
    }

    private static String scientific(double v) {
        String s = String.format(Locale.ROOT, "%.3e", v);
        int e = s.indexOf('e');
        return strip(s.substring(0, e)) + s.substring(e);
    }

    private static String strip(String s) {
        if (s.indexOf('.') < 0) return s;
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
