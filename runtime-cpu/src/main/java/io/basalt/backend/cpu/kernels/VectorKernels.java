package io.basalt.backend.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot products of stored weight rows (fp32 scratch, Q8_0, Q4_0) with fp32 activation vectors. Each
 * keeps several independent vector accumulators and reduces once per row (JAVA.md §1.4: the
 * horizontal reduction dominates short dots).
 */
public final class VectorKernels {
    private VectorKernels() {}

    // 256-bit is intrinsified on AVX2 and AVX-512 machines alike (JAVA.md §1.4). 512-bit vectors are
    // used only behind PackedKernels512.ENABLED (true only where they are the preferred, intrinsified
    // ones): on AVX2 they fall back to Java code, 55× slower.
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** Σ a[aOff+i]·b[bOff+i] for i < n. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int step = F.length();
        for (; i + 2 * step <= n; i += 2 * step) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOff + i + step).fma(FloatVector.fromArray(F, b, bOff + i + step), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    /** Dot of n little-endian fp32 values at {@code byteOff} in {@code w} with x[0..n). */
    public static float dotF32(MemorySegment w, long byteOff, float[] x, int n) {
        int i = 0;
        int step = F.length();
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
        for (; i + 4 * step <= n; i += 4 * step) {
            long o = byteOff + 4L * i;
            acc0 = FloatVector.fromMemorySegment(F, w, o, LE).fma(FloatVector.fromArray(F, x, i), acc0);
            acc1 = FloatVector.fromMemorySegment(F, w, o + 4L * step, LE).fma(FloatVector.fromArray(F, x, i + step), acc1);
            acc2 = FloatVector.fromMemorySegment(F, w, o + 8L * step, LE).fma(FloatVector.fromArray(F, x, i + 2 * step), acc2);
            acc3 = FloatVector.fromMemorySegment(F, w, o + 12L * step, LE).fma(FloatVector.fromArray(F, x, i + 3 * step), acc3);
        }
        for (; i + step <= n; i += step) {
            acc0 = FloatVector.fromMemorySegment(F, w, byteOff + 4L * i, LE).fma(FloatVector.fromArray(F, x, i), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += w.get(F32_LE, byteOff + 4L * i) * x[i];
        return sum;
    }

    /**
     * A 4-row × 3-token tile of fp32 dot products with 12 independent accumulators, reduced once at
     * the end: each weight vector loaded feeds three tokens, so a batch costs far fewer loads and
     * reductions than separate dots (JAVA.md §2.4: ~2× the per-pair dot on this machine).
     * Writes y[t0 + j][r0 + i] for i < 4, j < 3; n must be a multiple of the vector length.
     */
    public static void dotTile4x3F32(MemorySegment w, long rowOff, long rowBytes, float[] x0, float[] x1, float[] x2,
                                     int n, float[] y0, float[] y1, float[] y2, int r0) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F);
        long o0 = rowOff, o1 = rowOff + rowBytes, o2 = rowOff + 2 * rowBytes, o3 = rowOff + 3 * rowBytes;
        for (int i = 0; i < n; i += F.length()) {
            FloatVector v0 = FloatVector.fromArray(F, x0, i);
            FloatVector v1 = FloatVector.fromArray(F, x1, i);
            FloatVector v2 = FloatVector.fromArray(F, x2, i);
            long b = 4L * i;
            FloatVector w0 = FloatVector.fromMemorySegment(F, w, o0 + b, LE);
            a00 = w0.fma(v0, a00); a01 = w0.fma(v1, a01); a02 = w0.fma(v2, a02);
            FloatVector w1 = FloatVector.fromMemorySegment(F, w, o1 + b, LE);
            a10 = w1.fma(v0, a10); a11 = w1.fma(v1, a11); a12 = w1.fma(v2, a12);
            FloatVector w2 = FloatVector.fromMemorySegment(F, w, o2 + b, LE);
            a20 = w2.fma(v0, a20); a21 = w2.fma(v1, a21); a22 = w2.fma(v2, a22);
            FloatVector w3 = FloatVector.fromMemorySegment(F, w, o3 + b, LE);
            a30 = w3.fma(v0, a30); a31 = w3.fma(v1, a31); a32 = w3.fma(v2, a32);
        }
        y0[r0] = a00.reduceLanes(VectorOperators.ADD); y1[r0] = a01.reduceLanes(VectorOperators.ADD);
        y2[r0] = a02.reduceLanes(VectorOperators.ADD);
        y0[r0 + 1] = a10.reduceLanes(VectorOperators.ADD); y1[r0 + 1] = a11.reduceLanes(VectorOperators.ADD);
        y2[r0 + 1] = a12.reduceLanes(VectorOperators.ADD);
        y0[r0 + 2] = a20.reduceLanes(VectorOperators.ADD); y1[r0 + 2] = a21.reduceLanes(VectorOperators.ADD);
        y2[r0 + 2] = a22.reduceLanes(VectorOperators.ADD);
        y0[r0 + 3] = a30.reduceLanes(VectorOperators.ADD); y1[r0 + 3] = a31.reduceLanes(VectorOperators.ADD);
        y2[r0 + 3] = a32.reduceLanes(VectorOperators.ADD);
    }

    /** Dot of one Q8_0 row (n/32 blocks of fp16 scale + 32 int8) with x. */
    public static float dotQ8_0(MemorySegment w, long byteOff, float[] x, int n) {
        return PackedKernels512.ENABLED ? PackedKernels512.dotBlocks(w, byteOff, false, x, n) : dotQ8_0Narrow(w, byteOff, x, n);
    }

    /**
     * The 256-bit Q8_0 row dot (any machine). Two blocks per iteration, each summed by an FMA chain into
     * its own accumulator (JMH-style loop over 256 rows in L2: 3.4–3.6 → 2.9–3.0 ns a block).
     */
    static float dotQ8_0Narrow(MemorySegment w, long byteOff, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int blocks = n / 32;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = byteOff + 34L * b;
            float scale0 = Float.float16ToFloat(w.get(I16_LE, o));
            float scale1 = Float.float16ToFloat(w.get(I16_LE, o + 34));
            int xi = b * 32;
            // Four 8-byte loads converted from lane part 0 beat one 32-byte load with castShape parts 1..3.
            FloatVector s0 = q8(w, o + 2).mul(FloatVector.fromArray(F, x, xi));
            FloatVector s1 = q8(w, o + 36).mul(FloatVector.fromArray(F, x, xi + 32));
            s0 = q8(w, o + 10).fma(FloatVector.fromArray(F, x, xi + 8), s0);
            s1 = q8(w, o + 44).fma(FloatVector.fromArray(F, x, xi + 40), s1);
            s0 = q8(w, o + 18).fma(FloatVector.fromArray(F, x, xi + 16), s0);
            s1 = q8(w, o + 52).fma(FloatVector.fromArray(F, x, xi + 48), s1);
            s0 = q8(w, o + 26).fma(FloatVector.fromArray(F, x, xi + 24), s0);
            s1 = q8(w, o + 60).fma(FloatVector.fromArray(F, x, xi + 56), s1);
            acc0 = s0.fma(FloatVector.broadcast(F, scale0), acc0);
            acc1 = s1.fma(FloatVector.broadcast(F, scale1), acc1);
        }
        if (b < blocks) {
            long o = byteOff + 34L * b;
            int xi = b * 32;
            FloatVector s = q8(w, o + 2).mul(FloatVector.fromArray(F, x, xi));
            s = q8(w, o + 10).fma(FloatVector.fromArray(F, x, xi + 8), s);
            s = q8(w, o + 18).fma(FloatVector.fromArray(F, x, xi + 16), s);
            s = q8(w, o + 26).fma(FloatVector.fromArray(F, x, xi + 24), s);
            acc0 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16_LE, o))), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #dotQ8_0Narrow} of one row with four tokens: each block is converted and scaled once (int8 × fp16
     * scale is exact in fp32), then every 8-lane piece feeds one FMA per token into that token's accumulator. Four
     * tokens keep 4 weight vectors, 4 accumulators and the scale in registers; eight spilled (per token and block,
     * 256 rows in L2: 1.45–1.52 ns, against 2.0 for eight and 2.0–2.1 for the two-token dots). Writes y0[r] … y3[r].
     */
    static void dotQ8_0Narrow4(MemorySegment w, long byteOff, float[] x0, float[] x1, float[] x2, float[] x3, int n,
                               float[] y0, float[] y1, float[] y2, float[] y3, int r) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int blocks = n / 32;
        for (int b = 0; b < blocks; b++) {
            long o = byteOff + 34L * b;
            FloatVector scale = FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16_LE, o)));
            int xi = b * 32;
            for (int j = 0; j < 32; j += 8) {
                FloatVector q = q8(w, o + 2 + j).mul(scale);
                a0 = q.fma(FloatVector.fromArray(F, x0, xi + j), a0);
                a1 = q.fma(FloatVector.fromArray(F, x1, xi + j), a1);
                a2 = q.fma(FloatVector.fromArray(F, x2, xi + j), a2);
                a3 = q.fma(FloatVector.fromArray(F, x3, xi + j), a3);
            }
        }
        y0[r] = a0.reduceLanes(VectorOperators.ADD);
        y1[r] = a1.reduceLanes(VectorOperators.ADD);
        y2[r] = a2.reduceLanes(VectorOperators.ADD);
        y3[r] = a3.reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #dotQ8_0Narrow} of one row with two tokens: each block is loaded, converted and scaled once for both (the
     * conversion, not the memory, bounds a Q8_0 row dot on 256-bit machines; scaling each piece once instead of each
     * token's sum: JMH 5632 × 2048 batch 2 898–913 → 805–808 µs). Writes y0[r] and y1[r].
     */
    static void dotQ8_0Narrow2(MemorySegment w, long byteOff, float[] x0, float[] x1, int n, float[] y0, float[] y1, int r) {
        // Even and odd pieces in separate accumulators: two FMA chains per token.
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
        int blocks = n / 32;
        for (int b = 0; b < blocks; b++) {
            long o = byteOff + 34L * b;
            FloatVector scale = FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16_LE, o)));
            int xi = b * 32;
            FloatVector q = q8(w, o + 2).mul(scale);
            a0 = q.fma(FloatVector.fromArray(F, x0, xi), a0);
            a1 = q.fma(FloatVector.fromArray(F, x1, xi), a1);
            q = q8(w, o + 10).mul(scale);
            c0 = q.fma(FloatVector.fromArray(F, x0, xi + 8), c0);
            c1 = q.fma(FloatVector.fromArray(F, x1, xi + 8), c1);
            q = q8(w, o + 18).mul(scale);
            a0 = q.fma(FloatVector.fromArray(F, x0, xi + 16), a0);
            a1 = q.fma(FloatVector.fromArray(F, x1, xi + 16), a1);
            q = q8(w, o + 26).mul(scale);
            c0 = q.fma(FloatVector.fromArray(F, x0, xi + 24), c0);
            c1 = q.fma(FloatVector.fromArray(F, x1, xi + 24), c1);
        }
        y0[r] = a0.add(c0).reduceLanes(VectorOperators.ADD);
        y1[r] = a1.add(c1).reduceLanes(VectorOperators.ADD);
    }

    /** One Q8_0 row of n values at byteOff, dequantized into out[0..n). */
    public static void dequantQ8_0(MemorySegment w, long byteOff, float[] out, int n) {
        for (int b = 0; b < n / 32; b++) {
            long o = byteOff + 34L * b;
            FloatVector scale = FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16_LE, o)));
            for (int j = 0; j < 32; j += 8) q8(w, o + 2 + j).mul(scale).intoArray(out, 32 * b + j);
        }
    }

    private static FloatVector q8(MemorySegment w, long o) {
        return (FloatVector) ByteVector.fromMemorySegment(B64, w, o, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    /** Dot of one Q4_0 row (n/32 blocks of fp16 scale + 16 bytes: low nibbles are elements 0..15, high 16..31). */
    public static float dotQ4_0(MemorySegment w, long byteOff, float[] x, int n) {
        return PackedKernels512.ENABLED ? PackedKernels512.dotBlocks(w, byteOff, true, x, n) : dotQ4_0Narrow(w, byteOff, x, n);
    }

    /**
     * The 256-bit Q4_0 row dot (any machine): each half of a block's 16 bytes gives 8 low and 8 high
     * elements. A high nibble is taken as (q & 0xF0) ^ 0x80 read as a signed byte, which is exactly
     * 16 × (nibble − 8), the 1/16 folded into the block scale (a power of two: exact); x86 has no byte
     * shift. Written out in place: with the nibble steps in helper methods C2 ran this slower than scalar code.
     */
    static float dotQ4_0Narrow(MemorySegment w, long byteOff, float[] x, int n) {
        FloatVector acc = FloatVector.zero(F);
        int blocks = n / 32;
        for (int b = 0; b < blocks; b++) {
            long o = byteOff + 18L * b;
            float d = Float.float16ToFloat(w.get(I16_LE, o));
            int xi = b * 32;
            ByteVector q0 = ByteVector.fromMemorySegment(B64, w, o + 2, LE), q1 = ByteVector.fromMemorySegment(B64, w, o + 10, LE);
            FloatVector lo = ((FloatVector) q0.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xi))
                    .add(((FloatVector) q1.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                            .mul(FloatVector.fromArray(F, x, xi + 8)));
            FloatVector hi = ((FloatVector) q0.and((byte) 0xF0).lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 16))
                    .add(((FloatVector) q1.and((byte) 0xF0).lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.B2F, F, 0))
                            .mul(FloatVector.fromArray(F, x, xi + 24)));
            acc = hi.fma(FloatVector.broadcast(F, d / 16), lo.mul(d)).add(acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** n values of a Q4_0 row (n/32 blocks from byteOff), dequantized into out[outOff, outOff + n); nibbles as in {@link #dotQ4_0Narrow}. */
    public static void dequantQ4_0(MemorySegment w, long byteOff, float[] out, int outOff, int n) {
        for (int b = 0; b < n / 32; b++) {
            long o = byteOff + 18L * b;
            float d = Float.float16ToFloat(w.get(I16_LE, o));
            FloatVector scale = FloatVector.broadcast(F, d), scale16 = FloatVector.broadcast(F, d / 16);
            ByteVector q0 = ByteVector.fromMemorySegment(B64, w, o + 2, LE), q1 = ByteVector.fromMemorySegment(B64, w, o + 10, LE);
            int e = outOff + 32 * b;
            ((FloatVector) q0.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(scale).intoArray(out, e);
            ((FloatVector) q1.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(scale).intoArray(out, e + 8);
            ((FloatVector) q0.and((byte) 0xF0).lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.B2F, F, 0))
                    .mul(scale16).intoArray(out, e + 16);
            ((FloatVector) q1.and((byte) 0xF0).lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.B2F, F, 0))
                    .mul(scale16).intoArray(out, e + 24);
        }
    }

    public static float bf16ToFloat(short bits) { return Float.intBitsToFloat((bits & 0xFFFF) << 16); }
}
