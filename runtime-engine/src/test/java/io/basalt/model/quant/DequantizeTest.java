package io.basalt.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.DType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The scalar decoders against the formats themselves: every bf16 and f16 bit pattern against a decode from the
 * sign, exponent and mantissa fields; the E2M1 codes against MODELS.md's table; block layouts from bytes written
 * out by hand. These decoders are the reference the CPU kernels are tested against, so they are checked here
 * against nothing but the formats' definitions.
 */
class DequantizeTest {

    /** IEEE-style binary float from its fields: {@code expBits} of exponent, {@code manBits} of mantissa. */
    static double fromFields(int bits, int expBits, int manBits) {
        int sign = (bits >>> (expBits + manBits)) & 1;
        int exp = (bits >>> manBits) & ((1 << expBits) - 1);
        int man = bits & ((1 << manBits) - 1);
        int bias = (1 << (expBits - 1)) - 1;
        double v;
        if (exp == (1 << expBits) - 1) v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (exp == 0) v = man * Math.scalb(1.0, 1 - bias - manBits);
        else v = ((1L << manBits) + man) * Math.scalb(1.0, exp - bias - manBits);
        return sign == 1 ? -v : v;
    }

    @Test
    void everyBf16AndF16BitPatternDecodesAsItsFieldsSay() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            double bf = fromFields(bits, 8, 7);
            double half = fromFields(bits, 5, 10);
            float gotBf = Dequantize.bf16((short) bits);
            float gotHalf = Dequantize.f16((short) bits);
            if (Double.isNaN(bf)) assertTrue(Float.isNaN(gotBf), "bf16 " + Integer.toHexString(bits));
            else assertEquals(bf, gotBf, 0.0, "bf16 " + Integer.toHexString(bits));
            if (Double.isNaN(half)) assertTrue(Float.isNaN(gotHalf), "f16 " + Integer.toHexString(bits));
            else assertEquals(half, gotHalf, 0.0, "f16 " + Integer.toHexString(bits));
            // the sign of zero survives
            if (bf == 0) assertEquals(Math.copySign(1.0, bf), Math.copySign(1f, gotBf));
            if (half == 0) assertEquals(Math.copySign(1.0, half), Math.copySign(1f, gotHalf));
        }
    }

    @Test
    void e2m1CodesAndE8m0ScalesFollowTheFormat() {
        // MODELS.md: 0:+0 1:+0.5 2:+1 3:+1.5 4:+2 5:+3 6:+4 7:+6, bit 3 the sign.
        float[] table = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};
        for (int code = 0; code < 16; code++) {
            // E2M1 from its fields: 2 exponent bits (bias 1), 1 mantissa bit; exponent 0 is subnormal (m · 0.5)
            int exp = (code >> 1) & 3, man = code & 1;
            double fields = exp == 0 ? man * 0.5 : (1 + man * 0.5) * Math.scalb(1.0, exp - 1);
            float want = (code & 8) != 0 ? -table[code & 7] : table[code & 7];
            assertEquals(fields, Math.abs(want), 0.0, "E2M1 table vs fields, code " + code);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(Dequantize.e2m1(code)), "E2M1 code " + code);
            assertEquals(Dequantize.e2m1(code), Dequantize.e2m1(code | 0xF0), "only the low four bits count");
        }
        for (int s = 0; s < 255; s++) assertEquals(Math.pow(2, s - 127), Dequantize.e8m0(s), 0.0, "E8M0 " + s);
        assertEquals(Float.POSITIVE_INFINITY, Dequantize.e8m0(255)); // ldexp(…, 128), as the gpt-oss reference
        assertEquals(1f, Dequantize.e8m0((byte) 127)); // a signed byte is read as unsigned
        assertEquals(0x1p100f, Dequantize.e8m0((byte) 227));
    }

    @Test
    void q8_0IsAnFp16ScaleThen32SignedBytes() {
        byte[] b = new byte[2 * 34];
        b[0] = 0x00; b[1] = 0x3C;                // d = 1.0
        for (int j = 0; j < 32; j++) b[2 + j] = (byte) (j * 8 - 128); // -128, -120, …, 120
        b[34] = 0x00; b[35] = (byte) 0xB8;       // d = -0.5
        b[36] = 127; b[37] = -1; b[38] = 0;
        float[] out = new float[1 + 64];
        Arrays.fill(out, Float.NaN);
        Dequantize.q8_0(MemorySegment.ofArray(b), 0, out, 1, 64);
        for (int j = 0; j < 32; j++) assertEquals(j * 8 - 128, out[1 + j], "block 0 element " + j);
        assertEquals(-63.5f, out[33]);
        assertEquals(0.5f, out[34]);
        assertEquals(-0f, out[35]);
        assertTrue(Float.isNaN(out[0]), "nothing written before outOff");
        // The second block alone, from its byte offset.
        float[] second = new float[32];
        Dequantize.row(MemorySegment.ofArray(b), DType.Q8_0, 34, second, 0, 32);
        assertArrayEquals(Arrays.copyOfRange(out, 33, 65), second);
    }

    @Test
    void q4_0LowNibblesAreTheFirstHalfHighNibblesTheSecond() {
        byte[] b = new byte[18];
        b[0] = 0x00; b[1] = 0x40;                // d = 2.0
        for (int j = 0; j < 16; j++) b[2 + j] = (byte) (j | (15 - j) << 4);
        float[] out = new float[32];
        Dequantize.q4_0(MemorySegment.ofArray(b), 0, out, 0, 32);
        for (int j = 0; j < 16; j++) {
            assertEquals(2f * (j - 8), out[j], "element " + j + " (low nibble of byte " + j + ")");
            assertEquals(2f * (15 - j - 8), out[j + 16], "element " + (j + 16) + " (high nibble of byte " + j + ")");
        }
    }

    @Test
    void mxfp4PairsElementsInOneByteLowNibbleFirst() {
        // Two experts' rows of 64 elements: 4 blocks of 16 bytes, 4 scale bytes; decode the third block on.
        byte[] blocks = new byte[4 * 16];
        byte[] scales = {(byte) 127, (byte) 127, (byte) 128, (byte) 125};
        Random rnd = new Random(7);
        rnd.nextBytes(blocks);
        float[] out = new float[64];
        Dequantize.mxfp4(MemorySegment.ofArray(blocks), MemorySegment.ofArray(scales), 2, out, 0, 64);
        float[] e2m1 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f};
        for (int b = 0; b < 2; b++) {
            double scale = Math.pow(2, (scales[2 + b] & 0xFF) - 127);
            for (int j = 0; j < 16; j++) {
                int q = blocks[(2 + b) * 16 + j] & 0xFF;
                int lo = q & 15, hi = q >>> 4;
                assertEquals((lo & 8) != 0 ? -e2m1[lo & 7] * scale : e2m1[lo & 7] * scale, out[32 * b + 2 * j], 0.0);
                assertEquals((hi & 8) != 0 ? -e2m1[hi & 7] * scale : e2m1[hi & 7] * scale, out[32 * b + 2 * j + 1], 0.0);
            }
        }
    }

    @Test
    void rowDecodesEveryFloatTypeAndRefusesTheRest() {
        float[] values = {1f, -2.5f, 0x1p-24f, 65504f, 0.333251953125f};
        MemorySegment f32 = MemorySegment.ofArray(new byte[4 * values.length]);
        MemorySegment f16 = MemorySegment.ofArray(new byte[2 * values.length]);
        MemorySegment bf16 = MemorySegment.ofArray(new byte[2 * values.length]);
        var f32le = java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        var i16le = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            f32.setAtIndex(f32le, i, values[i]);
            f16.setAtIndex(i16le, i, Float.floatToFloat16(values[i])); // every value is exact in f16
            bf16.setAtIndex(i16le, i, (short) (Float.floatToRawIntBits(values[i]) >>> 16));
        }
        float[] out = new float[values.length];
        Dequantize.row(f32, DType.F32, 0, out, 0, values.length);
        assertArrayEquals(values, out);
        Dequantize.row(f16, DType.F16, 0, out, 0, values.length);
        assertArrayEquals(values, out);
        Dequantize.row(bf16, DType.BF16, 2, out, 0, values.length - 1); // from the second element
        for (int i = 1; i < values.length; i++) {
            assertEquals(Float.intBitsToFloat(Float.floatToRawIntBits(values[i]) & 0xFFFF0000), out[i - 1]);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dequantize.row(f32, DType.U8, 0, out, 0, 1));
        assertTrue(e.getMessage().contains("U8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Dequantize.q8_0(f32, 0, out, 0, 5));
        assertTrue(e.getMessage().contains("whole blocks of 32"), e.getMessage());
    }
}
