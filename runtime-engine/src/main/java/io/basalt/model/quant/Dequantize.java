package io.basalt.model.quant;

import io.basalt.model.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar decoders of the stored number formats, written from their definitions (MODELS.md; ggml's
 * block_q8_0 and block_q4_0; OCP MX for MXFP4). Every backend that needs weights as fp32 decodes them
 * here, and the CPU kernels' vector paths are tested against these, so a kernel that agrees with
 * itself but not with the format is caught. One element at a time, no vectors: plain enough to
 * check against the format by reading.
 */
public final class Dequantize {
    private Dequantize() {}

    /** Elements per block of Q8_0, Q4_0 and MXFP4. */
    public static final int BLOCK = 32;

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** FP4 E2M1 code → value (MODELS.md); bit 3 is the sign. */
    private static final float[] E2M1 = {
        +0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
        -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f,
    };

    /** bfloat16 is the upper half of a float32. */
    public static float bf16(short bits) { return Float.intBitsToFloat((bits & 0xFFFF) << 16); }

    /** IEEE binary16, subnormals, infinities and NaNs included. */
    public static float f16(short bits) { return Float.float16ToFloat(bits); }

    /** An FP4 E2M1 code (the low four bits). */
    public static float e2m1(int code) { return E2M1[code & 0x0F]; }

    /**
     * An E8M0 scale byte: 2^(bits − 127). 255 gives +inf rather than the OCP spec's NaN, as the gpt-oss
     * reference's ldexp does (MODELS.md); real checkpoints never store it.
     */
    public static float e8m0(int bits) { return Math.scalb(1f, (bits & 0xFF) - 127); }

    /**
     * {@code n} elements of ggml Q8_0 blocks starting at byte {@code offset}: per 32 elements an fp16
     * scale d (little-endian), then 32 int8 q; x = d · q.
     */
    public static void q8_0(MemorySegment src, long offset, float[] out, int outOff, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * DType.Q8_0.byteSize(BLOCK);
            float d = f16(src.get(I16, o));
            for (int j = 0; j < BLOCK; j++) out[outOff + b * BLOCK + j] = d * src.get(ValueLayout.JAVA_BYTE, o + 2 + j);
        }
    }

    /**
     * {@code n} elements of ggml Q4_0 blocks starting at byte {@code offset}: per 32 elements an fp16
     * scale d, then 16 bytes; element j is d · (low nibble of byte j − 8), element j + 16 is
     * d · (high nibble of byte j − 8).
     */
    public static void q4_0(MemorySegment src, long offset, float[] out, int outOff, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * DType.Q4_0.byteSize(BLOCK);
            float d = f16(src.get(I16, o));
            int e = outOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = src.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                out[e + j] = d * ((q & 0x0F) - 8);
                out[e + j + BLOCK / 2] = d * ((q >>> 4) - 8);
            }
        }
    }

    /**
     * {@code n} elements of MXFP4 from block {@code firstBlock} on: {@code blocks} holds 16 bytes per block of 32
     * (element 2j in the low nibble of byte j, 2j + 1 in the high one, each an E2M1 code), {@code scales} one E8M0
     * byte per block; x = e2m1 · 2^(scale − 127).
     */
    public static void mxfp4(MemorySegment blocks, MemorySegment scales, long firstBlock, float[] out, int outOff, int n) {
        checkBlocks(n);
        for (int b = 0; b < n / BLOCK; b++) {
            long blk = firstBlock + b;
            float scale = e8m0(scales.get(ValueLayout.JAVA_BYTE, blk));
            int e = outOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = blocks.get(ValueLayout.JAVA_BYTE, blk * (BLOCK / 2) + j) & 0xFF;
                out[e + 2 * j] = e2m1(q) * scale;
                out[e + 2 * j + 1] = e2m1(q >>> 4) * scale;
            }
        }
    }

    /**
     * {@code n} consecutive elements of a tensor stored as {@code type} (F32, F16, BF16, Q8_0 or Q4_0), starting at
     * byte {@code offset} (a block boundary for the block formats), decoded into out[outOff, outOff + n).
     */
    public static void row(MemorySegment src, DType type, long offset, float[] out, int outOff, int n) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, F32, offset, out, outOff, n);
            case F16 -> { for (int i = 0; i < n; i++) out[outOff + i] = f16(src.get(I16, offset + 2L * i)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[outOff + i] = bf16(src.get(I16, offset + 2L * i)); }
            case Q8_0 -> q8_0(src, offset, out, outOff, n);
            case Q4_0 -> q4_0(src, offset, out, outOff, n);
            default -> throw new IllegalArgumentException("cannot decode " + type + " as weights (F32, F16, BF16, Q8_0 or Q4_0)");
        }
    }

    private static void checkBlocks(int n) {
        if (n % BLOCK != 0) throw new IllegalArgumentException("block formats decode whole blocks of " + BLOCK + ", got " + n + " elements");
    }
}
