package io.basalt.model.arch;

import java.util.Locale;

/**
 * How a model's weight matrices are stored in memory once loaded. Compute is always fp32; these
 * trade memory traffic (and so decode speed) for precision.
 *
 * @param storage  element type for float weight matrices ({@code AUTO}: as stored in the file)
 * @param quantize block quantization applied at load ({@code NONE}: keep {@code storage})
 */
public record LoadOptions(Storage storage, Quantization quantize) {
    public static final LoadOptions DEFAULT = new LoadOptions(Storage.AUTO, Quantization.NONE);

    public enum Storage { AUTO, FP32, BF16, F16 }

    public enum Quantization { NONE, Q8_0 }

    public LoadOptions {
        if (storage == null || quantize == null) throw new IllegalArgumentException("storage and quantize are required");
    }

    /** Parses a {@code --dtype} value: auto, fp32 (float32), bf16 (bfloat16) or f16 (fp16, float16). */
    public static Storage parseStorage(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "auto" -> Storage.AUTO;
            case "fp32", "f32", "float32" -> Storage.FP32;
            case "bf16", "bfloat16" -> Storage.BF16;
            case "f16", "fp16", "float16", "half" -> Storage.F16;
            default -> throw new IllegalArgumentException("unknown dtype '" + s + "' (expected auto, fp32, bf16 or f16)");
        };
    }

    /** Parses a {@code --quantize} value: none or q8_0. */
    public static Quantization parseQuantization(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "none" -> Quantization.NONE;
            case "q8_0", "q8" -> Quantization.Q8_0;
            default -> throw new IllegalArgumentException("unknown quantization '" + s + "' (expected none or q8_0)");
        };
    }
}
