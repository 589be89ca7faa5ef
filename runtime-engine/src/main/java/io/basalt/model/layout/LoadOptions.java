package io.basalt.model.layout;

import java.util.Locale;

/**
 * How a model's weight matrices are stored in memory once loaded. Compute is always fp32; these
 * trade memory traffic (and so decode speed) for precision. Vectors (norms, biases, sinks) stay
 * fp32, block-quantized tensors (GGUF Q8_0/Q4_0) and MXFP4 experts stay as stored.
 *
 * @param storage  element type for float weight matrices ({@code AUTO}: as stored in the file)
 * @param quantize block quantization applied at load ({@code NONE}: keep {@code storage}); a matrix
 *                 whose rows are not whole Q8_0 blocks keeps {@code storage}
 */
public record LoadOptions(Storage storage, Quantization quantize) {
    public static final LoadOptions DEFAULT = new LoadOptions(Storage.AUTO, Quantization.NONE);

    public enum Storage { AUTO, FP32, BF16, F16 }

    public enum Quantization { NONE, Q8_0 }

    public LoadOptions {
        if (storage == null || quantize == null) throw new IllegalArgumentException("storage and quantize are required");
    }

    /** Options with only the storage set (no quantization). */
    public static LoadOptions of(Storage storage) { return new LoadOptions(storage, Quantization.NONE); }

    /** Parses the CLI's {@code --dtype} and {@code --quantize} values; an error names the bad value. */
    public static LoadOptions parse(String dtype, String quantize) {
        return new LoadOptions(parseStorage(dtype), parseQuantization(quantize));
    }

    /** The options as the CLI spells them, e.g. "dtype=bf16 quantize=none". */
    public String describe() {
        return "dtype=" + storage.name().toLowerCase(Locale.ROOT) + " quantize=" + quantize.name().toLowerCase(Locale.ROOT);
    }

    /** Parses a {@code --dtype} value: auto, fp32 (float32), bf16 (bfloat16) or f16 (fp16, float16). */
    public static Storage parseStorage(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "auto" -> Storage.AUTO;
            case "fp32", "f32", "float32" -> Storage.FP32;
            case "bf16", "bfloat16" -> Storage.BF16;
            case "f16", "fp16", "float16", "half" -> Storage.F16;
            default -> throw new IllegalArgumentException("unknown --dtype '" + s + "' (expected auto, fp32, bf16 or f16)");
        };
    }

    /** Parses a {@code --quantize} value: none or q8_0. */
    public static Quantization parseQuantization(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "none" -> Quantization.NONE;
            case "q8_0", "q8" -> Quantization.Q8_0;
            default -> throw new IllegalArgumentException("unknown --quantize '" + s + "' (expected none or q8_0)");
        };
    }
}
