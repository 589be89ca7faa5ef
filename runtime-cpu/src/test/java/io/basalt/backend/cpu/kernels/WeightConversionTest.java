package io.basalt.backend.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.DType;
import io.basalt.model.quant.Dequantize;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Storage conversions at load: bf16 and f16 rounding, Q8_0 blocks, transposes, pass-through of quantized tensors. */
class WeightConversionTest {
    static final ValueLayout.OfFloat F32 = VectorKernels.F32_LE;
    static final ValueLayout.OfShort I16 = VectorKernels.I16_LE;

    static short bf16(int floatBits) { return WeightConversion.floatToBf16(Float.intBitsToFloat(floatBits)); }

    @Test
    void bf16RoundsToNearestEvenIncludingTies() {
        assertEquals((short) 0x3F80, bf16(0x3F80_0000)); // 1.0 exactly
        assertEquals((short) 0x3F80, bf16(0x3F80_7FFF)); // below half an ulp: down
        assertEquals((short) 0x3F81, bf16(0x3F80_8001)); // above half: up
        assertEquals((short) 0x3F80, bf16(0x3F80_8000)); // tie, even below: down
        assertEquals((short) 0x3F82, bf16(0x3F81_8000)); // tie, odd below: up to even
        assertEquals((short) 0xBF82, bf16(0xBF81_8000)); // negative tie
        assertEquals((short) 0x0000, bf16(0x0000_8000)); // subnormal tie to zero
        assertEquals((short) 0x8000, bf16(0x8000_0000)); // -0 keeps its sign
        assertEquals((short) 0x7F80, bf16(0x7F7F_FFFF)); // Float.MAX_VALUE rounds past the largest bf16: +inf
        assertEquals((short) 0x7F80, bf16(0x7F80_0000)); // +inf
        assertEquals((short) 0xFF80, bf16(0xFF80_0000)); // -inf
    }

    @Test
    void bf16KeepsNaNsNaN() {
        for (int bits : new int[] {0x7FC0_0000, 0x7F80_0001, 0x7FFF_FFFF, 0xFF80_0001, 0xFFC1_2345}) {
            short h = bf16(bits);
            float back = Dequantize.bf16(h);
            assertTrue(Float.isNaN(back), Integer.toHexString(bits) + " -> " + Integer.toHexString(h & 0xFFFF));
            assertEquals(bits < 0, (h & 0x8000) != 0, "sign of " + Integer.toHexString(bits));
        }
    }

    @Test
    void bf16MatchesAnExactNearestEvenReferenceOnRandomFloats() {
        Random rnd = new Random(5);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(rnd.nextInt());
            if (Float.isNaN(f) || Float.isInfinite(f)) continue;
            int up = Float.floatToRawIntBits(f) >>> 16;
            float lo = Float.intBitsToFloat(up << 16);
            float hi = Float.intBitsToFloat((up + 1) << 16); // next bf16 away from zero (inf past the top)
            if (Float.isInfinite(hi)) continue; // the overflow edge is checked above
            double dLo = Math.abs((double) f - lo);
            double dHi = Math.abs((double) f - hi);
            int want = dLo < dHi ? up : dHi < dLo ? up + 1 : ((up & 1) == 0 ? up : up + 1);
            assertEquals((short) want, WeightConversion.floatToBf16(f), "bf16 of " + f);
        }
    }

    @Test
    void f16ConversionKeepsSubnormalsAndRoundsToNearestEven() {
        float tiny = 0x1p-24f; // smallest f16 subnormal
        float[] in = {1f, -2.5f, 65504f, 65520f, tiny, 3 * tiny, 0.5f * tiny, 1.5f * tiny, 2.5f * tiny, 0x1p-15f, 6.1e-5f, 0f};
        float[] want = {1f, -2.5f, 65504f, Float.POSITIVE_INFINITY, tiny, 3 * tiny, 0f, 2 * tiny, 2 * tiny, 0x1p-15f,
                Float.float16ToFloat(Float.floatToFloat16(6.1e-5f)), 0f};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(F32, in);
            WeightConversion.Stored s = WeightConversion.convert(src, DType.F32, 1, in.length, DType.F16, arena);
            assertEquals(DType.F16, s.dtype());
            assertEquals(2L * in.length, s.data().byteSize());
            for (int i = 0; i < in.length; i++) {
                assertEquals(want[i], Float.float16ToFloat(s.data().getAtIndex(I16, i)), "f16 of " + in[i]);
            }
            // And back up to fp32 exactly, then through bf16 (truncating only what bf16 cannot hold).
            WeightConversion.Stored back = WeightConversion.convert(s.data(), DType.F16, 1, in.length, DType.F32, arena);
            for (int i = 0; i < in.length; i++) assertEquals(want[i], back.data().getAtIndex(F32, i));
        }
    }

    @Test
    void q8_0RoundTripIsWithinHalfAScalePerElement() {
        Random rnd = new Random(11);
        int rows = 37;
        int cols = 96;
        float[] x = new float[rows * cols];
        double[] magnitude = {1, 1e-3, 1e-6, 1e-9, 300, 4e4, 0.07};
        for (int r = 0; r < rows; r++) {
            double m = magnitude[r % magnitude.length];
            for (int c = 0; c < cols; c++) x[r * cols + c] = (float) (rnd.nextGaussian() * m);
        }
        x[5] = 0f;
        x[cols + 3] = -(float) (magnitude[1] * 9); // the block maximum negative: q = -127
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocateFrom(F32, x);
            WeightConversion.Stored s = WeightConversion.convert(src, DType.F32, rows, cols, DType.Q8_0, arena);
            assertEquals(DType.Q8_0, s.dtype());
            assertEquals((long) rows * (cols / 32) * 34, s.data().byteSize());
            float[] kernelRow = new float[cols];
            float[] reference = new float[cols];
            WeightMatrix m = WeightMatrices.rowMajor(s.data(), DType.Q8_0, rows, cols);
            for (int r = 0; r < rows; r++) {
                m.row(r, kernelRow);
                Dequantize.q8_0(s.data(), DType.Q8_0.byteSize((long) r * cols), reference, 0, cols);
                for (int b = 0; b < cols / 32; b++) {
                    long o = ((long) r * (cols / 32) + b) * 34;
                    double d = Float.float16ToFloat(s.data().get(I16, o));
                    int maxQ = 0;
                    double amax = 0;
                    for (int j = 0; j < 32; j++) {
                        int q = s.data().get(ValueLayout.JAVA_BYTE, o + 2 + j);
                        maxQ = Math.max(maxQ, Math.abs(q));
                        float v = x[r * cols + b * 32 + j];
                        amax = Math.max(amax, Math.abs(v));
                        double err = Math.abs(v - q * d);
                        assertTrue(err <= d / 2 * (1 + 1e-6), "row " + r + " block " + b + " elem " + j + ": |" + v + " - " + q
                                + "·" + d + "| = " + err + " > d/2");
                        assertEquals((float) (q * d), reference[b * 32 + j], "model.quant's Q8_0 decode");
                        assertEquals(reference[b * 32 + j], kernelRow[b * 32 + j], Math.ulp(reference[b * 32 + j]), "kernel dequant");
                    }
                    assertTrue(d * 127 >= amax, "scale covers the block maximum");
                    // A normal fp16 scale puts the block maximum at ±126..127; subnormal scales (max|x| < 127·2^-14) are coarser.
                    if (d >= 0x1p-14) assertTrue(maxQ >= 126, "the block maximum uses the int8 range, got " + maxQ);
                }
            }
        }
    }

    @Test
    void q8_0AllZeroBlockHasZeroScaleAndZeros() {
        float[] x = new float[64];
        for (int j = 32; j < 64; j++) x[j] = j - 48; // second block non-zero
        try (Arena arena = Arena.ofConfined()) {
            WeightConversion.Stored s = WeightConversion.convert(arena.allocateFrom(F32, x), DType.F32, 1, 64, DType.Q8_0, arena);
            for (int j = 0; j < 34; j++) assertEquals(0, s.data().get(ValueLayout.JAVA_BYTE, j), "byte " + j);
            assertEquals(16f / 127f, Float.float16ToFloat(s.data().get(I16, 34)), 16f / 127f * 1e-3f);
        }
    }

    @Test
    void quantizedAndSameTypeSourcesAreReturnedAsTheyAre() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q4 = arena.allocate(2 * 18);
            MemorySegment q8 = arena.allocate(2 * 34);
            MemorySegment f32 = arena.allocate(4 * 64);
            for (DType target : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0}) {
                WeightConversion.Stored a = WeightConversion.convert(q4, DType.Q4_0, 2, 32, target, arena);
                assertSame(q4, a.data());
                assertEquals(DType.Q4_0, a.dtype());
                WeightConversion.Stored b = WeightConversion.convert(q8, DType.Q8_0, 2, 32, target, arena);
                assertSame(q8, b.data());
                assertEquals(DType.Q8_0, b.dtype());
            }
            assertSame(f32, WeightConversion.convert(f32, DType.F32, 2, 32, DType.F32, arena).data());
        }
    }

    @Test
    void q8_0NeedsWholeBlocks() {
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WeightConversion.convert(arena.allocate(4 * 40), DType.F32, 1, 40, DType.Q8_0, arena));
            assertTrue(e.getMessage().contains("multiple of 32") && e.getMessage().contains("40"), e.getMessage());
            assertFalse(WeightConversion.fits(DType.Q8_0, 172));
            assertTrue(WeightConversion.fits(DType.BF16, 172));
        }
    }

    @Test
    void transposeTurnsInOutIntoRowsOfEveryTarget() {
        int in = 64;
        int out = 37; // not a multiple of the 16-row tile
        Random rnd = new Random(3);
        float[] w = new float[in * out];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocateFrom(F32, w);
            WeightConversion.Stored t = WeightConversion.transpose(src, DType.F32, in, out, DType.F32, arena);
            for (int r = 0; r < out; r++) {
                for (int c = 0; c < in; c++) assertEquals(w[c * out + r], t.data().getAtIndex(F32, (long) r * in + c));
            }
            WeightConversion.Stored b = WeightConversion.transpose(src, DType.F32, in, out, DType.BF16, arena);
            for (int r = 0; r < out; r++) {
                for (int c = 0; c < in; c++) {
                    assertEquals(WeightConversion.floatToBf16(w[c * out + r]), b.data().getAtIndex(I16, (long) r * in + c));
                }
            }
            WeightConversion.Stored q = WeightConversion.transpose(src, DType.F32, in, out, DType.Q8_0, arena);
            WeightConversion.Stored direct = WeightConversion.convert(t.data(), DType.F32, out, in, DType.Q8_0, arena);
            assertEquals(-1L, q.data().mismatch(direct.data()), "transpose then Q8_0 = Q8_0 of the transpose");
        }
    }

    @Test
    void convertedCopiesLiveAndDieWithTheirArena() {
        Arena arena = Arena.ofShared();
        WeightConversion.Stored s = WeightConversion.convert(arena.allocate(4 * 32), DType.F32, 1, 32, DType.BF16, arena);
        assertTrue(s.data().scope().isAlive());
        arena.close();
        assertFalse(s.data().scope().isAlive());
    }
}
