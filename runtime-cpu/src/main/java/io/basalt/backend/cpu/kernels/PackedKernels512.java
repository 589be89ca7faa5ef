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
 * The micro-kernels for machines whose preferred vectors are 512 bits (AVX-512): {@link PackedMatrix}'s
 * decode kernels and batch tiles (batches run through {@link PanelMatmul}), and the Q8_0/Q4_0 rows of
 * {@link QuantizedRowMatrix}; {@link PackedKernels256} holds the 256-bit kernels. One vector is a whole
 * 16-row panel column, so a k step is one weight load, and k is unrolled so that enough independent
 * accumulators hide the FMA latency. Only ever run where 512-bit vectors are intrinsified (on AVX2
 * they would fall back to Java code, JAVA.md §1.4).
 *
 * <p>The near-copies here are deliberate: {@code tile1} over a segment, an array or bf16 pairs,
 * {@code rows8x2} over arrays or in place, {@code rows4x2}, {@code panels4} and its bf16 twin. Each is
 * hand-unrolled with its accumulators as locals, because C2 keeps vectors in registers only when no
 * vector crosses a call it might not inline (otherwise they are boxed, JAVA.md §1.4), and because a
 * segment-reading and an array-reading loop compile differently (a segment version of the 8-row tile
 * once ran ten times slower). A shared helper taking the source, the row count or the widening as a
 * parameter would risk both; merge them only with JMH figures before and after.
 */
final class PackedKernels512 {
    private PackedKernels512() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final java.lang.foreign.ValueLayout.OfShort I16 = VectorKernels.I16_LE;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int P = PackedMatrix.PANEL;

    /** Whether the 512-bit kernels run (elsewhere the 256-bit ones do): {@link KernelSettings#wideVectors}. */
    static final boolean ENABLED = KernelSettings.wideVectors();

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

    /**
     * {@link #widenBf16} through a bulk copy into an int[] and vector loads from the array, for large
     * batches. The segment-reading loop was compiled, in some runs, into a path that called its bounds
     * checks and took a third of a 1B prefill; the copy costs a batch of 16 about 15 % (1B bf16 C=16),
     * nothing measurable at 64, so batches of 32 rows or more take this one.
     */
    static void widenBf16ViaArray(MemorySegment src, long off, float[] w, int n) {
        int blocks = (n + 2 * P - 1) / (2 * P);
        int[] pairs = PAIRS.get();
        MemorySegment.copy(src, I32, off, pairs, 0, blocks * P);
        for (int b = 0; b < blocks; b++) {
            IntVector v = IntVector.fromArray(I, pairs, b * P);
            v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(w, 2 * P * b);
            v.and(0xFFFF0000).reinterpretAsFloats().intoArray(w, 2 * P * b + P);
        }
    }

    private static final java.lang.foreign.ValueLayout.OfInt I32 = java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ThreadLocal<int[]> PAIRS = ThreadLocal.withInitial(() -> new int[PackedMatrix.KC * P / 2]);

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

    /**
     * Decode over four consecutive full panels ({@code pb} bytes apart), fp32: each broadcast of x feeds
     * all four panels' FMAs. Why: a streaming GEMV is bound by how many cache lines a core keeps in
     * flight, and fewer instructions per byte streamed leave more of them in flight; on the 2-core
     * build machine a one-panel loop streamed ~26 GB/s and this one ~30 GB/s (the read probe's figure).
     * y[col, col + 64) is overwritten.
     */
    static void panels4(MemorySegment w, long off, long pb, int kc, float[] x, float[] y, int col) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            long o = off + 64L * k;
            FloatVector e = FloatVector.broadcast(F, x[k]);
            a = FloatVector.fromMemorySegment(F, w, o, LE).fma(e, a);
            b = FloatVector.fromMemorySegment(F, w, o + pb, LE).fma(e, b);
            c = FloatVector.fromMemorySegment(F, w, o + 2 * pb, LE).fma(e, c);
            d = FloatVector.fromMemorySegment(F, w, o + 3 * pb, LE).fma(e, d);
        }
        a.intoArray(y, col);
        b.intoArray(y, col + P);
        c.intoArray(y, col + 2 * P);
        d.intoArray(y, col + 3 * P);
    }

    /**
     * {@link #panels4} for bf16 pairs (see {@link #widenBf16}): one broadcast per column serves four
     * panels (one-panel loop ~20 GB/s, this one ~25 GB/s on the build machine).
     */
    static void panels4Bf16(MemorySegment w, long off, long pb, int kc, float[] x, float[] y, int col) {
        FloatVector a0 = FloatVector.zero(F), b0 = FloatVector.zero(F), a1 = FloatVector.zero(F), b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F), b2 = FloatVector.zero(F), a3 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            long o = off + 32L * k;
            FloatVector e = FloatVector.broadcast(F, x[k]), f = FloatVector.broadcast(F, x[k + 1]);
            IntVector v0 = IntVector.fromMemorySegment(I, w, o, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, w, o + pb, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, w, o + 2 * pb, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, w, o + 3 * pb, LE);
            a0 = low(v0).fma(e, a0);
            b0 = high(v0).fma(f, b0);
            a1 = low(v1).fma(e, a1);
            b1 = high(v1).fma(f, b1);
            a2 = low(v2).fma(e, a2);
            b2 = high(v2).fma(f, b2);
            a3 = low(v3).fma(e, a3);
            b3 = high(v3).fma(f, b3);
        }
        if (k < kc) { // an odd last column: its partner in the pair is padding
            long o = off + 32L * k;
            FloatVector e = FloatVector.broadcast(F, x[k]);
            a0 = low(IntVector.fromMemorySegment(I, w, o, LE)).fma(e, a0);
            a1 = low(IntVector.fromMemorySegment(I, w, o + pb, LE)).fma(e, a1);
            a2 = low(IntVector.fromMemorySegment(I, w, o + 2 * pb, LE)).fma(e, a2);
            a3 = low(IntVector.fromMemorySegment(I, w, o + 3 * pb, LE)).fma(e, a3);
        }
        a0.add(b0).intoArray(y, col);
        a1.add(b1).intoArray(y, col + P);
        a2.add(b2).intoArray(y, col + 2 * P);
        a3.add(b3).intoArray(y, col + 3 * P);
    }

    /** Dequantizes {@code blocks} Q8_0 blocks (34 bytes: fp16 scale, 32 int8) from buf into t[from …]. */
    static void dequantQ8(byte[] buf, int blocks, float[] t, int from) {
        for (int b = 0; b < blocks; b++) {
            int o = 34 * b;
            FloatVector scale = FloatVector.broadcast(F, Float.float16ToFloat((short) ((buf[o] & 0xFF) | (buf[o + 1] << 8))));
            ((FloatVector) ByteVector.fromArray(B, buf, o + 2).convertShape(VectorOperators.B2F, F, 0)).mul(scale)
                    .intoArray(t, from + 32 * b);
            ((FloatVector) ByteVector.fromArray(B, buf, o + 18).convertShape(VectorOperators.B2F, F, 0)).mul(scale)
                    .intoArray(t, from + 32 * b + P);
        }
    }

    /** Row i of t starts at i · KC. */
    private static final int[] ROW_STARTS = java.util.stream.IntStream.range(0, P).map(i -> i * PackedMatrix.KC).toArray();

    /** w[k][16] from 16 rows of t (row i at t[i · KC …]), k < kc: one 16-lane gather per column. */
    static void transposeRows(float[] t, int kc, float[] w) {
        for (int k = 0; k < kc; k++) FloatVector.fromArray(F, t, k, ROW_STARTS, 0).intoArray(w, k * P);
    }

    /** The first column of a bf16 pair as floats (the low halves shifted up). */
    private static FloatVector low(IntVector pairs) {
        return (FloatVector) pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** The second column of a bf16 pair as floats (the high halves, low bits cleared). */
    private static FloatVector high(IntVector pairs) {
        return (FloatVector) pairs.and(0xFFFF0000).reinterpretAsFloats();
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

    /**
     * Eight interleaved token rows (8 per k in xp from xo) × two panel blocks (w, w2: 16 floats per k):
     * 16 accumulators, each weight vector used by 8 FMAs; the {@code rows} real rows of the 8 are
     * stored or added into y. The weights come from arrays, not from the packed segment: in some runs
     * C2 compiled a segment-reading version of this loop into code over ten times slower.
     */
    static void rows8x2(float[] w, float[] w2, int kc, float[] xp, int xo, float[][] y, int t, int rows,
                        int col, int valid, int valid2, boolean first, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F), b5 = FloatVector.zero(F), b6 = FloatVector.zero(F), b7 = FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            FloatVector u = FloatVector.fromArray(F, w2, k * P);
            int xk = xo + 8 * k;
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
            s = FloatVector.broadcast(F, xp[xk + 6]);
            a6 = v.fma(s, a6); b6 = u.fma(s, b6);
            s = FloatVector.broadcast(F, xp[xk + 7]);
            a7 = v.fma(s, a7); b7 = u.fma(s, b7);
        }
        // Spill, then merge from the array: vectors passed to a helper C2 might not inline would be boxed.
        a0.intoArray(acc, 0); a1.intoArray(acc, 16); a2.intoArray(acc, 32); a3.intoArray(acc, 48);
        a4.intoArray(acc, 64); a5.intoArray(acc, 80); a6.intoArray(acc, 96); a7.intoArray(acc, 112);
        b0.intoArray(acc, 128); b1.intoArray(acc, 144); b2.intoArray(acc, 160); b3.intoArray(acc, 176);
        b4.intoArray(acc, 192); b5.intoArray(acc, 208); b6.intoArray(acc, 224); b7.intoArray(acc, 240);
        put(acc, 8, y, t, rows, col, valid, valid2, first);
    }

    /**
     * {@link #rows8x2} reading two fp32 panel blocks in place (at off and off2 in w, 64 bytes per
     * column) instead of from copies. An earlier version of this tile was compiled, in some runs, into
     * code over ten times slower; that was before every segment reaching the kernels was of one class
     * (see MappedFile.map); none of 26 runs of gpt2 at 16 concurrent sequences since collapsed.
     */
    static void rows8x2(MemorySegment w, long off, long off2, int kc, float[] xp, int xo, float[][] y, int t, int rows,
                        int col, int valid, int valid2, boolean first, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F), b5 = FloatVector.zero(F), b6 = FloatVector.zero(F), b7 = FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            FloatVector v = FloatVector.fromMemorySegment(F, w, off + 64L * k, LE);
            FloatVector u = FloatVector.fromMemorySegment(F, w, off2 + 64L * k, LE);
            int xk = xo + 8 * k;
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
            s = FloatVector.broadcast(F, xp[xk + 6]);
            a6 = v.fma(s, a6); b6 = u.fma(s, b6);
            s = FloatVector.broadcast(F, xp[xk + 7]);
            a7 = v.fma(s, a7); b7 = u.fma(s, b7);
        }
        a0.intoArray(acc, 0); a1.intoArray(acc, 16); a2.intoArray(acc, 32); a3.intoArray(acc, 48);
        a4.intoArray(acc, 64); a5.intoArray(acc, 80); a6.intoArray(acc, 96); a7.intoArray(acc, 112);
        b0.intoArray(acc, 128); b1.intoArray(acc, 144); b2.intoArray(acc, 160); b3.intoArray(acc, 176);
        b4.intoArray(acc, 192); b5.intoArray(acc, 208); b6.intoArray(acc, 224); b7.intoArray(acc, 240);
        put(acc, 8, y, t, rows, col, valid, valid2, first);
    }

    /** Four token rows × two panel blocks ({@link #rows8x2} for the rows a batch has left over). */
    static void rows4x2(float[] w, float[] w2, int kc, float[] xp, int xo, float[][] y, int t, int rows,
                        int col, int valid, int valid2, boolean first, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        for (int k = 0; k < kc; k++) {
            FloatVector v = FloatVector.fromArray(F, w, k * P);
            FloatVector u = FloatVector.fromArray(F, w2, k * P);
            int xk = xo + 4 * k;
            FloatVector s = FloatVector.broadcast(F, xp[xk]);
            a0 = v.fma(s, a0); b0 = u.fma(s, b0);
            s = FloatVector.broadcast(F, xp[xk + 1]);
            a1 = v.fma(s, a1); b1 = u.fma(s, b1);
            s = FloatVector.broadcast(F, xp[xk + 2]);
            a2 = v.fma(s, a2); b2 = u.fma(s, b2);
            s = FloatVector.broadcast(F, xp[xk + 3]);
            a3 = v.fma(s, a3); b3 = u.fma(s, b3);
        }
        a0.intoArray(acc, 0); a1.intoArray(acc, 16); a2.intoArray(acc, 32); a3.intoArray(acc, 48);
        b0.intoArray(acc, 64); b1.intoArray(acc, 80); b2.intoArray(acc, 96); b3.intoArray(acc, 112);
        put(acc, 4, y, t, rows, col, valid, valid2, first);
    }

    /** Stores (first k-block) or adds a spilled tile (group rows of panel one, then of panel two) into y's real rows. */
    private static void put(float[] acc, int group, float[][] y, int t, int rows, int col, int valid, int valid2, boolean first) {
        for (int i = 0; i < rows; i++) {
            PackedMatrix.merge(acc, i * P, y[t + i], col, valid, first);
            if (valid2 > 0) PackedMatrix.merge(acc, (group + i) * P, y[t + i], col + P, valid2, first);
        }
    }

    /**
     * One Q8_0 or Q4_0 row dotted with x. Q8_0: 34-byte blocks (fp16 scale, 32 int8), each 16-byte half
     * widening to 16 floats in one conversion. Q4_0: 18-byte blocks (fp16 scale, then 16 bytes whose low
     * nibbles are elements 0–15 and high nibbles 16–31, each minus 8), the 16 bytes widening to two
     * vectors. Two blocks in flight so the accumulators' FMA chains overlap; the format test is
     * loop-invariant, so C2 unswitches it out of the loop.
     */
    static float dotBlocks(MemorySegment w, long byteOff, boolean q4, float[] x, int n) {
        long size = q4 ? 18 : 34;
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int blocks = n / 32;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = byteOff + size * b;
            acc0 = q4 ? q4Block(w, o, x, b * 32, acc0) : q8Block(w, o, x, b * 32, acc0);
            acc1 = q4 ? q4Block(w, o + size, x, b * 32 + 32, acc1) : q8Block(w, o + size, x, b * 32 + 32, acc1);
        }
        if (b < blocks) {
            long o = byteOff + size * b;
            acc0 = q4 ? q4Block(w, o, x, b * 32, acc0) : q8Block(w, o, x, b * 32, acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * One Q8_0 or Q4_0 row dotted with up to four token rows x[t … t + count) into y[t + i][r]: each
     * block is converted and scaled once for all of them (small batches would otherwise convert it per
     * token). The format test is loop-invariant, so C2 unswitches it out of the loop.
     */
    static void dotBlockRows(MemorySegment w, long byteOff, boolean q4, float[][] x, int t, int count, int n, float[][] y, int r) {
        float[] x0 = x[t], x1 = x[t + Math.min(1, count - 1)], x2 = x[t + Math.min(2, count - 1)], x3 = x[t + Math.min(3, count - 1)];
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            FloatVector lo, hi;
            if (q4) { // nibbles as in VectorKernels.dotQ4_0Narrow
                long o = byteOff + 18L * b;
                float d = Float.float16ToFloat(w.get(I16, o));
                ByteVector q = ByteVector.fromMemorySegment(B, w, o + 2, LE);
                lo = ((FloatVector) q.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d);
                hi = ((FloatVector) q.and((byte) 0xF0).lanewise(VectorOperators.XOR, (byte) 0x80)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d / 16);
            } else {
                long o = byteOff + 34L * b;
                float d = Float.float16ToFloat(w.get(I16, o));
                lo = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d);
                hi = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 18, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d);
            }
            int xi = 32 * b;
            a0 = lo.fma(FloatVector.fromArray(F, x0, xi), a0); b0 = hi.fma(FloatVector.fromArray(F, x0, xi + P), b0);
            a1 = lo.fma(FloatVector.fromArray(F, x1, xi), a1); b1 = hi.fma(FloatVector.fromArray(F, x1, xi + P), b1);
            a2 = lo.fma(FloatVector.fromArray(F, x2, xi), a2); b2 = hi.fma(FloatVector.fromArray(F, x2, xi + P), b2);
            a3 = lo.fma(FloatVector.fromArray(F, x3, xi), a3); b3 = hi.fma(FloatVector.fromArray(F, x3, xi + P), b3);
        }
        y[t][r] = a0.add(b0).reduceLanes(VectorOperators.ADD);
        if (count > 1) y[t + 1][r] = a1.add(b1).reduceLanes(VectorOperators.ADD);
        if (count > 2) y[t + 2][r] = a2.add(b2).reduceLanes(VectorOperators.ADD);
        if (count > 3) y[t + 3][r] = a3.add(b3).reduceLanes(VectorOperators.ADD);
    }

    /** acc + the Q4_0 block at o dotted with x[xi, xi + 32) (high nibbles as in {@link VectorKernels#dotQ4_0Narrow}). */
    private static FloatVector q4Block(MemorySegment w, long o, float[] x, int xi, FloatVector acc) {
        float d = Float.float16ToFloat(w.get(I16, o));
        ByteVector q = ByteVector.fromMemorySegment(B, w, o + 2, LE);
        FloatVector lo = (FloatVector) q.and((byte) 0x0F).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
        FloatVector hi = (FloatVector) q.and((byte) 0xF0).lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.B2F, F, 0);
        FloatVector loSum = lo.mul(FloatVector.fromArray(F, x, xi)).mul(d);
        return hi.mul(FloatVector.fromArray(F, x, xi + 16)).fma(FloatVector.broadcast(F, d / 16), loSum).add(acc);
    }

    /** acc + the Q8_0 block at o dotted with x[xi, xi + 32). */
    private static FloatVector q8Block(MemorySegment w, long o, float[] x, int xi, FloatVector acc) {
        FloatVector lo = (FloatVector) ByteVector.fromMemorySegment(B, w, o + 2, LE).convertShape(VectorOperators.B2F, F, 0);
        FloatVector hi = (FloatVector) ByteVector.fromMemorySegment(B, w, o + 18, LE).convertShape(VectorOperators.B2F, F, 0);
        FloatVector sum = lo.mul(FloatVector.fromArray(F, x, xi)).add(hi.mul(FloatVector.fromArray(F, x, xi + 16)));
        return sum.fma(FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, o))), acc);
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
