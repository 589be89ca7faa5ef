package io.basalt.backend.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernels for machines whose preferred vectors are 512 bits (AVX-512), for {@link PackedMatrix}
 * and the Q8_0 rows of {@link RowMajorMatrix}:
 * one vector is a whole 16-row panel column, so a k step is one weight load, and k is unrolled by
 * two so that enough independent accumulators hide the FMA latency. Only ever run where 512-bit
 * vectors are intrinsified (on AVX2 they would fall back to Java code, JAVA.md §1.4).
 */
final class PackedKernels512 {
    private PackedKernels512() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final java.lang.foreign.ValueLayout.OfShort I16 = VectorKernels.I16_LE;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int P = PackedMatrix.PANEL;

    /**
     * Whether the 512-bit kernels run: where 512-bit vectors are the preferred (intrinsified) ones,
     * unless -Dbasalt.vector.bits=256 asks for the narrow path.
     */
    static final boolean ENABLED = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            && !"256".equals(System.getProperty("basalt.vector.bits"));

    /**
     * bf16 columns are stored in pairs: int j of a 64-byte pair block holds row j of column k (low
     * half) and of column k + 1 (high half), so one load widens to both columns with a shift and a mask.
     */
    static void widenBf16(MemorySegment src, long off, float[] w, int n) {
        for (int i = 0; i < n; i += 2 * P) { // an odd last column writes a zero column past n: the scratch has room
            IntVector v = IntVector.fromMemorySegment(I, src, off + 2L * i, LE);
            v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(w, i);
            v.and(0xFFFF0000).reinterpretAsFloats().intoArray(w, i + P);
        }
    }

    static void tile1(MemorySegment w, long off, int kc, float[] x, int k0, float[] y, int col, int valid, boolean first) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        int k = 0;
        for (; k + 4 <= kc; k += 4) {
            long o = off + 64L * k;
            a = FloatVector.fromMemorySegment(F, w, o, LE).fma(FloatVector.broadcast(F, x[k0 + k]), a);
            b = FloatVector.fromMemorySegment(F, w, o + 64, LE).fma(FloatVector.broadcast(F, x[k0 + k + 1]), b);
            c = FloatVector.fromMemorySegment(F, w, o + 128, LE).fma(FloatVector.broadcast(F, x[k0 + k + 2]), c);
            d = FloatVector.fromMemorySegment(F, w, o + 192, LE).fma(FloatVector.broadcast(F, x[k0 + k + 3]), d);
        }
        for (; k < kc; k++) a = FloatVector.fromMemorySegment(F, w, off + 64L * k, LE).fma(FloatVector.broadcast(F, x[k0 + k]), a);
        store(a.add(b).add(c.add(d)), y, col, valid, first);
    }

    static void tile1Bf16(MemorySegment w, long off, int kc, float[] x, int k0, float[] y, int col, int valid, boolean first) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        int k = 0;
        for (; k + 4 <= kc; k += 4) {
            long o = off + 32L * k;
            IntVector v = IntVector.fromMemorySegment(I, w, o, LE);
            IntVector u = IntVector.fromMemorySegment(I, w, o + 64, LE);
            a = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(FloatVector.broadcast(F, x[k0 + k]), a);
            b = ((FloatVector) v.and(0xFFFF0000).reinterpretAsFloats()).fma(FloatVector.broadcast(F, x[k0 + k + 1]), b);
            c = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(FloatVector.broadcast(F, x[k0 + k + 2]), c);
            d = ((FloatVector) u.and(0xFFFF0000).reinterpretAsFloats()).fma(FloatVector.broadcast(F, x[k0 + k + 3]), d);
        }
        for (; k < kc; k += 2) { // a pair at a time; a last odd column's partner is padding
            IntVector v = IntVector.fromMemorySegment(I, w, off + 32L * k, LE);
            a = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(FloatVector.broadcast(F, x[k0 + k]), a);
            if (k + 1 < kc) b = ((FloatVector) v.and(0xFFFF0000).reinterpretAsFloats()).fma(FloatVector.broadcast(F, x[k0 + k + 1]), b);
        }
        store(a.add(b).add(c.add(d)), y, col, valid, first);
    }

    /** One row from the fp32 scratch w (16 floats per k). */
    static void tile1(float[] w, int kc, float[] x, int k0, float[] y, int col, int valid, boolean first) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        int k = 0;
        for (; k + 4 <= kc; k += 4) {
            a = FloatVector.fromArray(F, w, k * P).fma(FloatVector.broadcast(F, x[k0 + k]), a);
            b = FloatVector.fromArray(F, w, k * P + 16).fma(FloatVector.broadcast(F, x[k0 + k + 1]), b);
            c = FloatVector.fromArray(F, w, k * P + 32).fma(FloatVector.broadcast(F, x[k0 + k + 2]), c);
            d = FloatVector.fromArray(F, w, k * P + 48).fma(FloatVector.broadcast(F, x[k0 + k + 3]), d);
        }
        for (; k < kc; k++) a = FloatVector.fromArray(F, w, k * P).fma(FloatVector.broadcast(F, x[k0 + k]), a);
        store(a.add(b).add(c.add(d)), y, col, valid, first);
    }

    /** Six interleaved rows (6 per k in xp from xo), k unrolled by two: 12 accumulators. */
    static void tile6(float[] w, int kc, float[] xp, int xo, float[][] y, int t, int col, int valid, boolean first, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F), a4 = FloatVector.zero(F), a5 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F), c4 = FloatVector.zero(F), c5 = FloatVector.zero(F);
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            int xk = xo + 6 * k;
            a0 = v.fma(FloatVector.broadcast(F, xp[xk]), a0);
            a1 = v.fma(FloatVector.broadcast(F, xp[xk + 1]), a1);
            a2 = v.fma(FloatVector.broadcast(F, xp[xk + 2]), a2);
            a3 = v.fma(FloatVector.broadcast(F, xp[xk + 3]), a3);
            a4 = v.fma(FloatVector.broadcast(F, xp[xk + 4]), a4);
            a5 = v.fma(FloatVector.broadcast(F, xp[xk + 5]), a5);
            FloatVector u = FloatVector.fromArray(F, w, k * P + P);
            c0 = u.fma(FloatVector.broadcast(F, xp[xk + 6]), c0);
            c1 = u.fma(FloatVector.broadcast(F, xp[xk + 7]), c1);
            c2 = u.fma(FloatVector.broadcast(F, xp[xk + 8]), c2);
            c3 = u.fma(FloatVector.broadcast(F, xp[xk + 9]), c3);
            c4 = u.fma(FloatVector.broadcast(F, xp[xk + 10]), c4);
            c5 = u.fma(FloatVector.broadcast(F, xp[xk + 11]), c5);
        }
        for (; k < kc; k++) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            int xk = xo + 6 * k;
            a0 = v.fma(FloatVector.broadcast(F, xp[xk]), a0);
            a1 = v.fma(FloatVector.broadcast(F, xp[xk + 1]), a1);
            a2 = v.fma(FloatVector.broadcast(F, xp[xk + 2]), a2);
            a3 = v.fma(FloatVector.broadcast(F, xp[xk + 3]), a3);
            a4 = v.fma(FloatVector.broadcast(F, xp[xk + 4]), a4);
            a5 = v.fma(FloatVector.broadcast(F, xp[xk + 5]), a5);
        }
        a0.add(c0).intoArray(acc, 0); a1.add(c1).intoArray(acc, 16); a2.add(c2).intoArray(acc, 32);
        a3.add(c3).intoArray(acc, 48); a4.add(c4).intoArray(acc, 64); a5.add(c5).intoArray(acc, 80);
        for (int i = 0; i < 6; i++) PackedMatrix.merge(acc, i * P, y[t + i], col, valid, first);
    }

    /**
     * Six interleaved rows × two panels (32 output columns): 12 accumulators, and each broadcast of an
     * activation feeds two FMAs. Broadcasts compete with the FMAs for an execution port, so halving
     * them per FMA is what lets a batch approach the FMA peak.
     */
    static void tile6x2(float[] w, float[] w2, int kc, float[] xp, int xo, float[][] y, int t, int col, int valid,
                        int valid2, boolean first, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F), a4 = FloatVector.zero(F), a5 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F), b4 = FloatVector.zero(F), b5 = FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            FloatVector u = FloatVector.fromArray(F, w2, k * P);
            int xk = xo + 6 * k;
            FloatVector s = FloatVector.broadcast(F, xp[xk]);
            a0 = v.fma(s, a0); b0 = u.fma(s, b0);
            s = FloatVector.broadcast(F, xp[xk + 1]);
            a1 = v.fma(s, a1); b1 = u.fma(s, b1);
            s = FloatVector.broadcast(F, xp[xk + 2]);
            a2 = v.fma(s, a2); b2 = u.fma(s, b2);
            s = FloatVector.broadcast(F, xp[xk + 3]);
            a3 = v.fma(s, a3); b3 = u.fma(s, b3);
            s = FloatVector.broadcast(F, xp[xk + 4]);
            a4 = v.fma(s, a4); b4 = u.fma(s, b4);
            s = FloatVector.broadcast(F, xp[xk + 5]);
            a5 = v.fma(s, a5); b5 = u.fma(s, b5);
        }
        a0.intoArray(acc, 0); a1.intoArray(acc, 16); a2.intoArray(acc, 32);
        a3.intoArray(acc, 48); a4.intoArray(acc, 64); a5.intoArray(acc, 80);
        for (int i = 0; i < 6; i++) PackedMatrix.merge(acc, i * P, y[t + i], col, valid, first);
        if (valid2 <= 0) return;
        b0.intoArray(acc, 0); b1.intoArray(acc, 16); b2.intoArray(acc, 32);
        b3.intoArray(acc, 48); b4.intoArray(acc, 64); b5.intoArray(acc, 80);
        for (int i = 0; i < 6; i++) PackedMatrix.merge(acc, i * P, y[t + i], col + P, valid2, first);
    }

    /** Four interleaved rows, k unrolled by two: 8 accumulators. */
    static void tile4(float[] w, int kc, float[] xp, int xo, float[][] y, int t, int col, int valid, boolean first, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            int xk = xo + 4 * k;
            a0 = v.fma(FloatVector.broadcast(F, xp[xk]), a0);
            a1 = v.fma(FloatVector.broadcast(F, xp[xk + 1]), a1);
            a2 = v.fma(FloatVector.broadcast(F, xp[xk + 2]), a2);
            a3 = v.fma(FloatVector.broadcast(F, xp[xk + 3]), a3);
            FloatVector u = FloatVector.fromArray(F, w, k * P + P);
            c0 = u.fma(FloatVector.broadcast(F, xp[xk + 4]), c0);
            c1 = u.fma(FloatVector.broadcast(F, xp[xk + 5]), c1);
            c2 = u.fma(FloatVector.broadcast(F, xp[xk + 6]), c2);
            c3 = u.fma(FloatVector.broadcast(F, xp[xk + 7]), c3);
        }
        for (; k < kc; k++) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            int xk = xo + 4 * k;
            a0 = v.fma(FloatVector.broadcast(F, xp[xk]), a0);
            a1 = v.fma(FloatVector.broadcast(F, xp[xk + 1]), a1);
            a2 = v.fma(FloatVector.broadcast(F, xp[xk + 2]), a2);
            a3 = v.fma(FloatVector.broadcast(F, xp[xk + 3]), a3);
        }
        a0.add(c0).intoArray(acc, 0); a1.add(c1).intoArray(acc, 16); a2.add(c2).intoArray(acc, 32); a3.add(c3).intoArray(acc, 48);
        for (int i = 0; i < 4; i++) PackedMatrix.merge(acc, i * P, y[t + i], col, valid, first);
    }

    /** Two interleaved rows, k unrolled by two: 4 accumulators. */
    static void tile2(float[] w, int kc, float[] xp, int xo, float[][] y, int t, int col, int valid, boolean first, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            int xk = xo + 2 * k;
            a0 = v.fma(FloatVector.broadcast(F, xp[xk]), a0);
            a1 = v.fma(FloatVector.broadcast(F, xp[xk + 1]), a1);
            FloatVector u = FloatVector.fromArray(F, w, k * P + P);
            c0 = u.fma(FloatVector.broadcast(F, xp[xk + 2]), c0);
            c1 = u.fma(FloatVector.broadcast(F, xp[xk + 3]), c1);
        }
        for (; k < kc; k++) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            int xk = xo + 2 * k;
            a0 = v.fma(FloatVector.broadcast(F, xp[xk]), a0);
            a1 = v.fma(FloatVector.broadcast(F, xp[xk + 1]), a1);
        }
        a0.add(c0).intoArray(acc, 0); a1.add(c1).intoArray(acc, 16);
        for (int i = 0; i < 2; i++) PackedMatrix.merge(acc, i * P, y[t + i], col, valid, first);
    }

    /**
     * One Q8_0 row (34-byte blocks: fp16 scale, 32 int8) dotted with x: each 16-byte half of a block
     * widens to 16 floats in one conversion; two blocks in flight so the accumulators' FMA chains overlap.
     */
    static float dotQ8_0(MemorySegment w, long byteOff, float[] x, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int blocks = n / 32;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = byteOff + 34L * b;
            acc0 = q8Block(w, o, x, b * 32).fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o))), acc0);
            acc1 = q8Block(w, o + 34, x, b * 32 + 32).fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o + 34))), acc1);
        }
        if (b < blocks) {
            long o = byteOff + 34L * b;
            acc0 = q8Block(w, o, x, b * 32).fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o))), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector q8Block(MemorySegment w, long o, float[] x, int xi) {
        FloatVector lo = (FloatVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2F, F, 0);
        FloatVector hi = (FloatVector) ByteVector.fromMemorySegment(B, w, o + 18, LE).convertShape(VectorOperators.B2F, F, 0);
        return lo.mul(FloatVector.fromArray(F, x, xi)).add(hi.mul(FloatVector.fromArray(F, x, xi + 16)));
    }

    private static void store(FloatVector v, float[] y, int col, int valid, boolean first) {
        if (valid == P) {
            if (!first) v = v.add(FloatVector.fromArray(F, y, col));
            v.intoArray(y, col);
            return;
        }
        VectorMask<Float> m = F.indexInRange(col, col + valid);
        if (!first) v = v.add(FloatVector.fromArray(F, y, col, m));
        v.intoArray(y, col, m);
    }
}
