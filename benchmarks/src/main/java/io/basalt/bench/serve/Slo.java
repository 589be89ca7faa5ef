package io.basalt.bench.serve;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Service-level objectives for goodput ({@code --slo ttft:500ms,tpot:50ms,e2e:2s}): a request counts
 * towards goodput when it succeeded and meets every objective given. Limits are kept in milliseconds.
 */
public record Slo(Map<String, Double> limitsMs) {
    public static final Slo NONE = new Slo(Map.of());

    public Slo {
        limitsMs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(limitsMs)); // keeps the order given
    }

    public boolean isEmpty() { return limitsMs.isEmpty(); }

    /** Parses {@code name:value[unit],...}; names ttft, tpot, itl (every gap), e2e (or e2el); units ms (default) or s. */
    public static Slo parse(String spec) {
        if (spec == null || spec.isBlank()) return NONE;
        Map<String, Double> limits = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            String[] kv = part.trim().split(":", 2);
            if (kv.length != 2) throw new IllegalArgumentException("--slo: '" + part.trim() + "' is not NAME:VALUE (e.g. ttft:500ms)");
            String name = kv[0].trim().toLowerCase(Locale.ROOT);
            if (name.equals("e2el")) name = "e2e";
            if (!name.matches("ttft|tpot|itl|e2e")) {
                throw new IllegalArgumentException("--slo: unknown metric '" + kv[0].trim() + "' (ttft, tpot, itl, e2e)");
            }
            limits.put(name, millis(kv[1].trim(), part.trim()));
        }
        return new Slo(limits);
    }

    private static double millis(String value, String part) {
        String v = value.toLowerCase(Locale.ROOT);
        double scale = 1;
        if (v.endsWith("ms")) v = v.substring(0, v.length() - 2);
        else if (v.endsWith("s")) { v = v.substring(0, v.length() - 1); scale = 1000; }
        try {
            double d = Double.parseDouble(v.trim()) * scale;
            if (!(d > 0) || Double.isInfinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--slo: '" + part + "' needs a positive time such as 500ms or 1.5s");
        }
    }

    /** Whether a successful request meets every objective. */
    public boolean met(RequestRecord r) {
        if (!r.ok()) return false;
        for (Map.Entry<String, Double> e : limitsMs.entrySet()) {
            double limit = e.getValue();
            boolean ok = switch (e.getKey()) {
                case "ttft" -> r.ttftMs() <= limit;
                case "tpot" -> r.tpotMs() <= limit;
                case "itl" -> r.maxItlMs() <= limit;
                default -> r.e2eMs() <= limit;
            };
            if (!ok) return false;
        }
        return true;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        limitsMs.forEach((k, v) -> b.append(b.isEmpty() ? "" : ",").append(k).append(':').append(fmt(v)).append("ms"));
        return b.toString();
    }

    private static String fmt(double v) { return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v); }
}
