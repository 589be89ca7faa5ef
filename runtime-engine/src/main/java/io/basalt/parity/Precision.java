package io.basalt.parity;

import io.basalt.model.layout.LoadOptions;
import java.util.Locale;

/**
 * The precision class of a dump, which picks the default thresholds: what the run loses against
 * float32 compute on the checkpoint's own weights. Ordered from most to least precise.
 */
public enum Precision {
    FP32, F16, BF16, Q8_0;

    public String label() { return name().toLowerCase(Locale.ROOT); }

    /** The less precise of two classes (its defaults are the ones a comparison can expect to meet). */
    public static Precision lessPrecise(Precision a, Precision b) { return a.ordinal() >= b.ordinal() ? a : b; }

    public static Precision parse(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "fp32", "f32", "float32" -> FP32;
            case "f16", "fp16", "float16", "half" -> F16;
            case "bf16", "bfloat16" -> BF16;
            case "q8_0", "q8" -> Q8_0;
            default -> throw new ParityInputException("unknown precision '" + s + "' (expected fp32, f16, bf16 or q8_0)");
        };
    }

    /**
     * The class of a run: {@code --quantize q8_0} wins; {@code --dtype auto} keeps the checkpoint's
     * weights and computes in float32, so it is fp32 (a backend that computes in lower precision
     * should be run with that {@code --dtype}, or compared with {@code --dtype-defaults}).
     */
    public static Precision ofRun(LoadOptions weights) {
        return switch (weights.quantize()) {
            case Q8_0 -> Q8_0;
            case NONE -> switch (weights.storage()) {
                case AUTO, FP32 -> FP32;
                case BF16 -> BF16;
                case F16 -> F16;
            };
        };
    }
}
