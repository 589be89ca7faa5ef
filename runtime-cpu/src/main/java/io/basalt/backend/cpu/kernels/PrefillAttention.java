package io.basalt.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal attention of {@link #ROWS} consecutive query rows of one sequence (a prefill) for one query
 * head, the rows side by side in the lanes of a vector (16 rows with AVX-512, else 8). {@link Attention} takes one row at a time and
 * pays a horizontal reduction for every q·k; here a score vector holds one position's score for all
 * the rows, so q·k, the online softmax (running maximum, rescaling, exp) and the weighted sum of the
 * values are all lane-wise: each key or value element is broadcast once and feeds one FMA for all
 * the rows, and nothing is reduced across lanes. Positions go a tile at a time with the online softmax of
 * flash attention, so there is no scores array the length of the context.
 *
 * <p>For plain causal attention only (no sinks, no sliding window): GPT-2 and Llama prefills.
 */
public final class PrefillAttention {
    private PrefillAttention() {}

    // 512-bit where the matmuls are (16 rows per call), else 256-bit (8 rows): one vector's lanes.
    private static final VectorSpecies<Float> F = PackedKernels512.ENABLED ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = PackedKernels512.ENABLED ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
    /** Query rows per call: one per lane. */
    public static final int ROWS = F.length();
    /** Positions per online-softmax step: two groups of eight scored side by side. */
    private static final int TILE = 16;

    /** Per-thread working memory, grown on demand. */
    public static final class Scratch {
        float[] qt = new float[0];    // [headDim][ROWS], pre-scaled
        float[] ot = new float[0];    // [headDim][ROWS], the unnormalised output
        final float[] p = new float[TILE * ROWS]; // [position][ROWS]: scores, then weights
        final int[] offs = new int[TILE];
        final float[] correction = new float[ROWS]; // handed to weightedValues as an array, not a vector

        void ensure(int headDim) {
            if (qt.length < headDim * ROWS) {
                qt = new float[headDim * ROWS];
                ot = new float[headDim * ROWS];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    public static Scratch scratch() { return SCRATCH.get(); }

    /**
     * Rows row0 … row0 + 7 of q (positions pos0 … pos0 + 7, each attending to positions [0, its own]),
     * query head at q[r][qOff …], KV head at kvOff inside each position; writes out[r][qOff …].
     *
     * @param offsets index in keys/values of position p's first element at offsets[p − base]
     */
    public static void attend(float[][] q, int row0, int qOff, float[] keys, float[] values, int[] offsets, int base,
                              int kvOff, int pos0, int headDim, float scale, float[][] out, Scratch s) {
        s.ensure(headDim);
        float[] qt = s.qt, ot = s.ot, p = s.p;
        int[] offs = s.offs;
        for (int r = 0; r < ROWS; r++) {
            float[] row = q[row0 + r];
            for (int d = 0; d < headDim; d++) qt[d * ROWS + r] = row[qOff + d] * scale;
        }
        java.util.Arrays.fill(ot, 0, headDim * ROWS, 0f);
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), sum = FloatVector.zero(F);
        IntVector rowPos = IntVector.broadcast(I, pos0).add(IntVector.fromArray(I, IOTA, 0));
        int last = pos0 + ROWS - 1;
        for (int t0 = 0; t0 <= last; t0 += TILE) {
            int n = Math.min(TILE, last - t0 + 1);
            for (int i = 0; i < TILE; i++) offs[i] = offsets[Math.min(t0 + i, last) - base] + kvOff; // past n: a real position, masked below
            scores(qt, keys, offs, 0, headDim, p);
            if (n > 8) scores(qt, keys, offs, 8, headDim, p);
            // Causal mask (only the tiles that reach the block's own positions have anything to mask),
            // then the tile's maximum per row.
            FloatVector tileMax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int i = 0; i < n; i++) {
                FloatVector v = FloatVector.fromArray(F, p, i * ROWS);
                if (t0 + i > pos0) {
                    VectorMask<Float> future = rowPos.lt(t0 + i).cast(F);
                    v = v.blend(Float.NEGATIVE_INFINITY, future);
                    v.intoArray(p, i * ROWS);
                }
                tileMax = tileMax.max(v);
            }
            FloatVector newMax = max.max(tileMax); // finite: every row attends to position t0 ≤ its own
            FloatVector correction = max.sub(newMax).lanewise(VectorOperators.EXP); // 0 on the first tile
            sum = sum.mul(correction);
            for (int i = 0; i < n; i++) {
                FloatVector w = FloatVector.fromArray(F, p, i * ROWS).sub(newMax).lanewise(VectorOperators.EXP);
                w.intoArray(p, i * ROWS);
                sum = sum.add(w);
            }
            max = newMax;
            correction.intoArray(s.correction, 0);
            weightedValues(values, offs, n, headDim, p, s.correction, ot);
        }
        FloatVector inv = FloatVector.broadcast(F, 1f).div(sum);
        for (int d = 0; d < headDim; d++) FloatVector.fromArray(F, ot, d * ROWS).mul(inv).intoArray(ot, d * ROWS);
        for (int r = 0; r < ROWS; r++) {
            float[] o = out[row0 + r];
            for (int d = 0; d < headDim; d++) o[qOff + d] = ot[d * ROWS + r];
        }
    }

    private static final int[] IOTA = java.util.stream.IntStream.range(0, ROWS).toArray();

    /** Scores of positions offs[i0 … i0 + 7] for all rows: p[i][r] = Σ_d qt[d][r] · key_i[d]; eight FMA chains. */
    private static void scores(float[] qt, float[] keys, int[] offs, int i0, int headDim, float[] p) {
        int k0 = offs[i0], k1 = offs[i0 + 1], k2 = offs[i0 + 2], k3 = offs[i0 + 3];
        int k4 = offs[i0 + 4], k5 = offs[i0 + 5], k6 = offs[i0 + 6], k7 = offs[i0 + 7];
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        for (int d = 0; d < headDim; d++) {
            FloatVector qd = FloatVector.fromArray(F, qt, d * ROWS);
            a0 = qd.fma(FloatVector.broadcast(F, keys[k0 + d]), a0);
            a1 = qd.fma(FloatVector.broadcast(F, keys[k1 + d]), a1);
            a2 = qd.fma(FloatVector.broadcast(F, keys[k2 + d]), a2);
            a3 = qd.fma(FloatVector.broadcast(F, keys[k3 + d]), a3);
            a4 = qd.fma(FloatVector.broadcast(F, keys[k4 + d]), a4);
            a5 = qd.fma(FloatVector.broadcast(F, keys[k5 + d]), a5);
            a6 = qd.fma(FloatVector.broadcast(F, keys[k6 + d]), a6);
            a7 = qd.fma(FloatVector.broadcast(F, keys[k7 + d]), a7);
        }
        int o = i0 * ROWS;
        a0.intoArray(p, o); a1.intoArray(p, o + ROWS); a2.intoArray(p, o + 2 * ROWS); a3.intoArray(p, o + 3 * ROWS);
        a4.intoArray(p, o + 4 * ROWS); a5.intoArray(p, o + 5 * ROWS); a6.intoArray(p, o + 6 * ROWS); a7.intoArray(p, o + 7 * ROWS);
    }

    /**
     * ot[d] = ot[d] · correction + Σ_i p[i] · value_i[d], eight dimensions at a time (eight FMA chains).
     * The correction comes as an array: a vector argument is boxed whenever C2 compiles this on its own.
     */
    private static void weightedValues(float[] values, int[] offs, int n, int headDim, float[] p, float[] corr, float[] ot) {
        FloatVector correction = FloatVector.fromArray(F, corr, 0);
        int d = 0;
        for (; d + 8 <= headDim; d += 8) {
            int o = d * ROWS;
            FloatVector a0 = FloatVector.fromArray(F, ot, o).mul(correction), a1 = FloatVector.fromArray(F, ot, o + ROWS).mul(correction);
            FloatVector a2 = FloatVector.fromArray(F, ot, o + 2 * ROWS).mul(correction), a3 = FloatVector.fromArray(F, ot, o + 3 * ROWS).mul(correction);
            FloatVector a4 = FloatVector.fromArray(F, ot, o + 4 * ROWS).mul(correction), a5 = FloatVector.fromArray(F, ot, o + 5 * ROWS).mul(correction);
            FloatVector a6 = FloatVector.fromArray(F, ot, o + 6 * ROWS).mul(correction), a7 = FloatVector.fromArray(F, ot, o + 7 * ROWS).mul(correction);
            for (int i = 0; i < n; i++) {
                FloatVector w = FloatVector.fromArray(F, p, i * ROWS);
                int v = offs[i] + d;
                a0 = w.fma(FloatVector.broadcast(F, values[v]), a0);
                a1 = w.fma(FloatVector.broadcast(F, values[v + 1]), a1);
                a2 = w.fma(FloatVector.broadcast(F, values[v + 2]), a2);
                a3 = w.fma(FloatVector.broadcast(F, values[v + 3]), a3);
                a4 = w.fma(FloatVector.broadcast(F, values[v + 4]), a4);
                a5 = w.fma(FloatVector.broadcast(F, values[v + 5]), a5);
                a6 = w.fma(FloatVector.broadcast(F, values[v + 6]), a6);
                a7 = w.fma(FloatVector.broadcast(F, values[v + 7]), a7);
            }
            a0.intoArray(ot, o); a1.intoArray(ot, o + ROWS); a2.intoArray(ot, o + 2 * ROWS); a3.intoArray(ot, o + 3 * ROWS);
            a4.intoArray(ot, o + 4 * ROWS); a5.intoArray(ot, o + 5 * ROWS); a6.intoArray(ot, o + 6 * ROWS); a7.intoArray(ot, o + 7 * ROWS);
        }
        for (; d < headDim; d++) { // head sizes that are not a multiple of 8
            FloatVector a = FloatVector.fromArray(F, ot, d * ROWS).mul(correction);
            for (int i = 0; i < n; i++) a = FloatVector.fromArray(F, p, i * ROWS).fma(FloatVector.broadcast(F, values[offs[i] + d]), a);
            a.intoArray(ot, d * ROWS);
        }
    }
}
