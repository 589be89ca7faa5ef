package io.basalt.model.quant;

/**
 * Scalar decoders of the stored number formats: the plain reference every backend can use, and the one the CPU
 * kernels' vector paths are tested against.
 */
public final class Dequantize {
    private Dequantize() {}

    /** bfloat16 is the upper half of a float32. */
    public static float bf16(short bits) { return Float.intBitsToFloat((bits & 0xFFFF) << 16); }
}
