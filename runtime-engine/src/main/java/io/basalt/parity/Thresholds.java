package io.basalt.parity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Pass/fail limits of a comparison, checked on the overall metrics. Defaults come from a precision
 * class (the less precise dump's, unless chosen); any limit can be overridden by name.
 */
public record Thresholds(Precision basis, Map<Metric, Double> limits) {
    /** What is limited, its name on the command line, and which side of the limit passes. */
    public enum Metric {
        MAX_ABS("max_abs", true, "max |Δlogit|", c -> c.overall().maxAbs()),
        MEAN_ABS("mean_abs", true, "mean |Δlogit|", c -> c.overall().meanAbs()),
        MAX_REL("max_rel", true, "max relative error", c -> c.overall().maxRel()),
        MEAN_REL("mean_rel", true, "mean relative error", c -> c.overall().meanRel()),
        MIN_COSINE("min_cosine", false, "min cosine similarity", c -> c.overall().minCosine()),
        MAX_KL("max_kl", true, "max KL(A‖B)", c -> c.overall().maxKl()),
        MEAN_KL("mean_kl", true, "mean KL(A‖B)", c -> c.overall().meanKl()),
        MIN_TOP1("min_top1", false, "top-1 agreement", c -> c.overall().top1()),
        MIN_TOP5("min_top5", false, "top-5 agreement", c -> c.overall().top5()),
        MAX_HIDDEN_REL_RMS("max_hidden_rel_rms", true, "max hidden-state relative RMS (worst layer)",
                c -> c.layers().stream().mapToDouble(LayerStats::relRms).max().orElse(0));

        private final String key;
        private final boolean upper;
        private final String label;
        private final ToDoubleFunction<Comparison> value;

        Metric(String key, boolean upper, String label, ToDoubleFunction<Comparison> value) {
            this.key = key;
            this.upper = upper;
            this.label = label;
            this.value = value;
        }

        public String key() { return key; }

        public String label() { return label; }

        /** True when the value must stay at or below the limit, false when at or above. */
        public boolean upper() { return upper; }

        public double value(Comparison c) { return value.applyAsDouble(c); }

        /** NaN never passes. */
        public boolean passes(double value, double limit) { return upper ? value <= limit : value >= limit; }

        public static Metric byKey(String key) {
            for (Metric m : values()) if (m.key.equals(key.strip().toLowerCase(Locale.ROOT))) return m;
            throw new ParityInputException("unknown threshold '" + key + "' (known: "
                    + String.join(", ", Arrays.stream(values()).map(Metric::key).toList()) + ")");
        }
    }

    /** One limit that the comparison missed. */
    public record Violation(Metric metric, double value, double limit) {
        public String describe() {
            return metric.key() + " = " + Numbers.format(value) + (metric.upper() ? " > " : " < ") + Numbers.format(limit) + " (" + metric.label() + ")";
        }
    }

    public Thresholds {
        limits = Map.copyOf(limits);
    }

    /**
     * The defaults per class, calibrated on the fixtures (docs/ARCHITECTURE.md, "Parity harness"):
     * float32 stacks differ by summation order (≤ 5e-5 on logits of magnitude ~10; the limits leave
     * the 1e-3 the torch acceptance allows), f16 storage by ≤ 0.03, bf16 by ≤ 0.27 (storage) to 1.05
     * (the peer's bf16 compute, which flips 2 of 12 near-tied argmaxes of a random-weight model),
     * Q8_0 storage by up to 0.9. Order: max_abs, mean_abs, max_rel, mean_rel, min_cosine, max_kl,
     * mean_kl, min_top1, min_top5, max_hidden_rel_rms.
     */
    public static Thresholds defaults(Precision p) {
        Map<Metric, Double> m = new EnumMap<>(Metric.class);
        switch (p) {
            case FP32 -> put(m, 1e-3, 1e-4, 1e-4, 5e-5, 0.99999, 1e-6, 1e-7, 0.99, 0.98, 1e-4);
            case F16 -> put(m, 0.1, 0.01, 0.01, 2e-3, 0.9999, 1e-3, 1e-4, 0.95, 0.9, 0.01);
            case BF16 -> put(m, 2.0, 0.2, 0.2, 0.1, 0.99, 0.1, 0.02, 0.8, 0.85, 0.05);
            case Q8_0 -> put(m, 2.0, 0.2, 0.2, 0.1, 0.99, 0.1, 0.02, 0.8, 0.85, 0.1);
        }
        return new Thresholds(p, m);
    }

    private static void put(Map<Metric, Double> m, double... v) {
        Metric[] all = Metric.values();
        for (int i = 0; i < all.length; i++) m.put(all[i], v[i]);
    }

    /** Overrides like {@code max_abs=1e-3}; an unknown name or a bad number is a {@link ParityInputException}. */
    public Thresholds with(List<String> overrides) {
        Map<Metric, Double> m = new EnumMap<>(limits);
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) throw new ParityInputException("--threshold expects name=value, got '" + o + "'");
            Metric metric = Metric.byKey(o.substring(0, eq));
            try {
                m.put(metric, Double.parseDouble(o.substring(eq + 1).strip()));
            } catch (NumberFormatException e) {
                throw new ParityInputException("--threshold " + metric.key() + " needs a number, got '" + o.substring(eq + 1) + "'");
            }
        }
        return new Thresholds(basis, m);
    }

    /** The limits the comparison misses (hidden-state limits only when hidden states were compared). */
    public List<Violation> check(Comparison c) {
        List<Violation> out = new ArrayList<>();
        for (Metric metric : Metric.values()) {
            Double limit = limits.get(metric);
            if (limit == null || (metric == Metric.MAX_HIDDEN_REL_RMS && !c.hiddenCompared())) continue;
            double v = metric.value(c);
            if (!metric.passes(v, limit)) out.add(new Violation(metric, v, limit));
        }
        return out;
    }
}
