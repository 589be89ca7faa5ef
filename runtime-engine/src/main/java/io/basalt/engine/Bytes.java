package io.basalt.engine;

import java.util.Locale;

/** Sizes for people, in the form the CLI reads back: {@code 512B}, {@code 40.0KiB}, {@code 2.3GiB}. */
public final class Bytes {
    private Bytes() {}

    /**
     * Binary units with one decimal, rounded up, so that a size printed as a minimum ("at least 2.3 MiB") is never
     * below the real one when typed back as an option value.
     */
    public static String describe(long bytes) {
        if (bytes < 1024) return bytes + "B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f%s", Math.ceil(v * 10 - 1e-9) / 10, units[u]);
    }
}
