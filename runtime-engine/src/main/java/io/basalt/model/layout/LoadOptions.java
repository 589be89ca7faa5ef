package io.basalt.model.layout;

import io.basalt.spi.Quantization;
import io.basalt.spi.StorageDtype;
import java.util.Locale;

/**
 * How a model's weight matrices are stored in memory once loaded, as the CLI, the embedded API and the
 * server's settings hold it (the SPI takes the same two enums in {@code Backend.LoadConfig}; the CLI's
 * spellings are parsed here, at the edge, not in the SPI). Compute is always fp32 on the CPU; these
 * trade memory traffic (and so decode speed) for precision. Vectors (norms, biases, sinks) stay fp32,
 * block-quantized tensors (GGUF Q8_0/Q4_0) and MXFP4 experts stay as stored.
 *
 * @param storage  element type for float weight matrices ({@code AUTO}: as stored in the file)
 * @param quantize block quantization applied at load ({@code NONE}: keep {@code storage}); a matrix
 *                 whose rows are not whole Q8_0 blocks keeps {@code storage}
 */
public record LoadOptions(StorageDtype storage, Quantization quantize) {
    public static final LoadOptions DEFAULT = new LoadOptions(StorageDtype.AUTO, Quantization.NONE);

    public LoadOptions {
        if (storage == null || quantize == null) throw new IllegalArgumentException("storage and quantize are required");
    }

    /** Options with only the storage set (no quantization). */
    public static LoadOptions of(StorageDtype storage) { return new LoadOptions(storage, Quantization.NONE); }

    /** Parses the CLI's {@code --dtype} and {@code --quantize} values; an error names the bad value. */
    public static LoadOptions parse(String dtype, String quantize) {
        return new LoadOptions(parseStorage(dtype), parseQuantization(quantize));
    }

    /** The options as the CLI spells them, e.g. "dtype=bf16 quantize=none". */
    public String describe() {
        return "dtype=" + storage.name().toLowerCase(Locale.ROOT) + " quantize=" + quantize.name().toLowerCase(Locale.ROOT);
    }

    /** Parses a {@code --dtype} value: auto, fp32 (float32), bf16 (bfloat16) or f16 (fp16, float16). */
    public static StorageDtype parseStorage(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "auto" -> StorageDtype.AUTO;
            case "fp32", "f32", "float32" -> StorageDtype.FP32;
            case "bf16", "bfloat16" -> StorageDtype.BF16;
            case "f16", "fp16", "float16", "half" -> StorageDtype.F16;
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
