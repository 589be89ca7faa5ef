package io.basalt.parity;

import java.util.Locale;

/** How a dump stores each position's logits: the whole vocabulary row, or only the K largest (ids + values). */
public sealed interface LogitsMode {
    /** Smallest K: top-5 agreement needs five ids from each side. */
    int MIN_TOP_K = 5;

    record Full() implements LogitsMode {
        @Override public String spec() { return "full"; }
    }

    record TopK(int k) implements LogitsMode {
        public TopK {
            if (k < MIN_TOP_K) throw new ParityInputException("--logits topk:K needs K >= " + MIN_TOP_K + " (top-5 agreement), got " + k);
        }

        @Override public String spec() { return "topk:" + k; }
    }

    /** The text form stored in dumps and given on the command line: {@code full} or {@code topk:K}. */
    String spec();

    static LogitsMode parse(String s) {
        String v = s.strip().toLowerCase(Locale.ROOT);
        if (v.equals("full")) return new Full();
        if (v.startsWith("topk:")) {
            try {
                return new TopK(Integer.parseInt(v.substring(5)));
            } catch (NumberFormatException e) {
                throw new ParityInputException("--logits topk:K needs a whole number K, got '" + s + "'");
            }
        }
        throw new ParityInputException("unknown --logits '" + s + "' (expected full or topk:K)");
    }
}
