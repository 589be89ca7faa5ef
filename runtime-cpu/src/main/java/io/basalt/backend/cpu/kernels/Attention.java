package io.basalt.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal attention of one query row for one KV head group, in one pass over the keys and values
 * (online softmax, as in flash attention): positions are taken a tile at a time; each tile's scores
 * raise the running maximum once, the running sum and value accumulator are rescaled once, and the
 * tile's values are accumulated with the new weights. No scores array the length of the context,
 * no second or third pass over the keys.
 *
 * <p>Keys and values live in per-layer float arrays, position p's kvDim floats at {@code offsets[p − base]}
 * (heads laid out head-major inside a position), so a contiguous cache and a paged block pool look
 * the same here. The heads of a group share each key and value vector load: scores and value
 * updates run over head pairs, one load feeding two FMAs.
 */
public final class Attention {
    private Attention() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int L = F.length();
    /**
     * Positions per online-softmax step (two paged blocks): a tile's keys and values of one KV head
     * (16 KiB at headDim 64) stay in L1 while every head of the group uses them, and the running
     * maximum is raised at most once per tile.
     */
    static final int TILE = 32;

    /** Per-thread working memory, grown on demand and reused across calls. */
    public static final class Scratch {
        float[] scores = new float[0]; // group × TILE
        float[] acc = new float[0];    // group × headDim
        float[] max = new float[0];    // group
        float[] sum = new float[0];    // group
        final int[] offs = new int[TILE];

        void ensure(int group, int headDim) {
            if (scores.length < group * TILE) scores = new float[group * TILE];
            if (acc.length < group * headDim) acc = new float[group * headDim];
            if (max.length < group) {
                max = new float[group];
                sum = new float[group];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** This thread's scratch. */
    public static Scratch scratch() { return SCRATCH.get(); }

    /**
     * Attention of {@code group} query heads that share one KV head, over positions [first, last].
     *
     * @param q       query heads at q[qOff + j·headDim], j &lt; group (already rotated)
     * @param offsets index in keys/values of position p's first element at offsets[p − base]
     * @param kvOff   the KV head's offset inside a position (kvHead · headDim)
     * @param sinks   per-query-head sink logits at sinks[sinkOff + j], or null: a sink joins the
     *                softmax's maximum and denominator but carries no value
     * @param out     receives the group's heads at out[outOff + j·headDim]
     */
    public static void attend(float[] q, int qOff, float[] keys, float[] values, int[] offsets, int base, int kvOff,
                              int first, int last, int group, int headDim, float scale, float[] sinks, int sinkOff,
                              float[] out, int outOff, Scratch s) {
        s.ensure(group, headDim);
        float[] acc = s.acc;
        float[] max = s.max;
        float[] sum = s.sum;
        float[] sc = s.scores;
        int[] offs = s.offs;
        java.util.Arrays.fill(acc, 0, group * headDim, 0f);
        for (int j = 0; j < group; j++) {
            // A sink starts the running maximum at its logit: its term exp(sink − max) is then 1.
            max[j] = sinks != null ? sinks[sinkOff + j] : Float.NEGATIVE_INFINITY;
            sum[j] = sinks != null ? 1f : 0f;
        }
        for (int t0 = first; t0 <= last; t0 += TILE) {
            int n = Math.min(TILE, last - t0 + 1);
            for (int i = 0; i < n; i++) offs[i] = offsets[t0 + i - base] + kvOff;
            int j = 0;
            if (headDim == 64) {
                for (; j + 2 <= group; j += 2) scoresPair64(q, qOff + j * 64, keys, offs, n, scale, sc, j * TILE);
                if (j < group) scoresOne64(q, qOff + j * 64, keys, offs, n, scale, sc, j * TILE);
            } else {
                for (; j + 2 <= group; j += 2) scoresPair(q, qOff + j * headDim, keys, offs, n, headDim, scale, sc, j * TILE);
                if (j < group) scoresOne(q, qOff + j * headDim, keys, offs, n, headDim, scale, sc, j * TILE);
            }
            for (j = 0; j < group; j++) softmaxStep(s, j, n, headDim);
            j = 0;
            for (; j + 2 <= group; j += 2) valuesPair(values, offs, n, headDim, sc, j * TILE, acc, j * headDim);
            if (j < group) valuesOne(values, offs, n, headDim, sc, j * TILE, acc, j * headDim);
        }
        for (int j = 0; j < group; j++) {
            // Without a sink and without positions nothing is attended: zeros, not 0/0.
            float inv = sum[j] > 0f ? 1f / sum[j] : 0f;
            int a = j * headDim;
            int o = outOff + a;
            int d = 0;
            for (; d + L <= headDim; d += L) FloatVector.fromArray(F, acc, a + d).mul(inv).intoArray(out, o + d);
            for (; d < headDim; d++) out[o + d] = acc[a + d] * inv;
        }
    }

    /**
     * {@link #scoresOne} for the common 64-float head: the query stays in eight registers across the
     * tile, so each position costs eight key loads instead of sixteen (the whole kernel ran 1.3–1.5× faster).
     */
    private static void scoresOne64(float[] q, int q0, float[] keys, int[] offs, int n, float scale, float[] sc, int row) {
        FloatVector x0 = FloatVector.fromArray(F, q, q0), x1 = FloatVector.fromArray(F, q, q0 + L);
        FloatVector x2 = FloatVector.fromArray(F, q, q0 + 2 * L), x3 = FloatVector.fromArray(F, q, q0 + 3 * L);
        FloatVector x4 = FloatVector.fromArray(F, q, q0 + 4 * L), x5 = FloatVector.fromArray(F, q, q0 + 5 * L);
        FloatVector x6 = FloatVector.fromArray(F, q, q0 + 6 * L), x7 = FloatVector.fromArray(F, q, q0 + 7 * L);
        for (int i = 0; i < n; i++) {
            int k = offs[i];
            FloatVector a0 = x0.mul(FloatVector.fromArray(F, keys, k));
            FloatVector a1 = x1.mul(FloatVector.fromArray(F, keys, k + L));
            a0 = x2.fma(FloatVector.fromArray(F, keys, k + 2 * L), a0);
            a1 = x3.fma(FloatVector.fromArray(F, keys, k + 3 * L), a1);
            a0 = x4.fma(FloatVector.fromArray(F, keys, k + 4 * L), a0);
            a1 = x5.fma(FloatVector.fromArray(F, keys, k + 5 * L), a1);
            a0 = x6.fma(FloatVector.fromArray(F, keys, k + 6 * L), a0);
            a1 = x7.fma(FloatVector.fromArray(F, keys, k + 7 * L), a1);
            sc[row + i] = a0.add(a1).reduceLanes(VectorOperators.ADD) * scale;
        }
    }

    /**
     * {@link #scoresPair} for 64-float heads: the first head's query stays in registers, the second's
     * is read from L1, and each key vector feeds both.
     */
    private static void scoresPair64(float[] q, int q0, float[] keys, int[] offs, int n, float scale, float[] sc, int row) {
        int q1 = q0 + 64;
        FloatVector x0 = FloatVector.fromArray(F, q, q0), x1 = FloatVector.fromArray(F, q, q0 + L);
        FloatVector x2 = FloatVector.fromArray(F, q, q0 + 2 * L), x3 = FloatVector.fromArray(F, q, q0 + 3 * L);
        FloatVector x4 = FloatVector.fromArray(F, q, q0 + 4 * L), x5 = FloatVector.fromArray(F, q, q0 + 5 * L);
        FloatVector x6 = FloatVector.fromArray(F, q, q0 + 6 * L), x7 = FloatVector.fromArray(F, q, q0 + 7 * L);
        for (int i = 0; i < n; i++) {
            int k = offs[i];
            FloatVector k0 = FloatVector.fromArray(F, keys, k), k1 = FloatVector.fromArray(F, keys, k + L);
            FloatVector a0 = x0.mul(k0), a1 = x1.mul(k1);
            FloatVector b0 = FloatVector.fromArray(F, q, q1).mul(k0), b1 = FloatVector.fromArray(F, q, q1 + L).mul(k1);
            k0 = FloatVector.fromArray(F, keys, k + 2 * L);
            k1 = FloatVector.fromArray(F, keys, k + 3 * L);
            a0 = x2.fma(k0, a0);
            a1 = x3.fma(k1, a1);
            b0 = FloatVector.fromArray(F, q, q1 + 2 * L).fma(k0, b0);
            b1 = FloatVector.fromArray(F, q, q1 + 3 * L).fma(k1, b1);
            k0 = FloatVector.fromArray(F, keys, k + 4 * L);
            k1 = FloatVector.fromArray(F, keys, k + 5 * L);
            a0 = x4.fma(k0, a0);
            a1 = x5.fma(k1, a1);
            b0 = FloatVector.fromArray(F, q, q1 + 4 * L).fma(k0, b0);
            b1 = FloatVector.fromArray(F, q, q1 + 5 * L).fma(k1, b1);
            k0 = FloatVector.fromArray(F, keys, k + 6 * L);
            k1 = FloatVector.fromArray(F, keys, k + 7 * L);
            a0 = x6.fma(k0, a0);
            a1 = x7.fma(k1, a1);
            b0 = FloatVector.fromArray(F, q, q1 + 6 * L).fma(k0, b0);
            b1 = FloatVector.fromArray(F, q, q1 + 7 * L).fma(k1, b1);
            sc[row + i] = a0.add(a1).reduceLanes(VectorOperators.ADD) * scale;
            sc[row + TILE + i] = b0.add(b1).reduceLanes(VectorOperators.ADD) * scale;
        }
    }

    /** Scaled scores of two query heads (at q0 and q0 + d) for the tile's positions; each key load feeds both. */
    private static void scoresPair(float[] q, int q0, float[] keys, int[] offs, int n, int d, float scale,
                                   float[] sc, int row) {
        int q1 = q0 + d;
        for (int i = 0; i < n; i++) {
            int k = offs[i];
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
            int x = 0;
            for (; x + 2 * L <= d; x += 2 * L) {
                FloatVector k0 = FloatVector.fromArray(F, keys, k + x);
                FloatVector k1 = FloatVector.fromArray(F, keys, k + x + L);
                a0 = FloatVector.fromArray(F, q, q0 + x).fma(k0, a0);
                a1 = FloatVector.fromArray(F, q, q0 + x + L).fma(k1, a1);
                b0 = FloatVector.fromArray(F, q, q1 + x).fma(k0, b0);
                b1 = FloatVector.fromArray(F, q, q1 + x + L).fma(k1, b1);
            }
            if (x + L <= d) {
                FloatVector k0 = FloatVector.fromArray(F, keys, k + x);
                a0 = FloatVector.fromArray(F, q, q0 + x).fma(k0, a0);
                b0 = FloatVector.fromArray(F, q, q1 + x).fma(k0, b0);
                x += L;
            }
            float sa = a0.add(a1).reduceLanes(VectorOperators.ADD);
            float sb = b0.add(b1).reduceLanes(VectorOperators.ADD);
            for (; x < d; x++) {
                float kx = keys[k + x];
                sa += q[q0 + x] * kx;
                sb += q[q1 + x] * kx;
            }
            sc[row + i] = sa * scale;
            sc[row + TILE + i] = sb * scale;
        }
    }

    /** Scaled scores of one query head for the tile's positions. */
    private static void scoresOne(float[] q, int q0, float[] keys, int[] offs, int n, int d, float scale,
                                  float[] sc, int row) {
        for (int i = 0; i < n; i++) {
            int k = offs[i];
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            int x = 0;
            for (; x + 4 * L <= d; x += 4 * L) {
                a0 = FloatVector.fromArray(F, q, q0 + x).fma(FloatVector.fromArray(F, keys, k + x), a0);
                a1 = FloatVector.fromArray(F, q, q0 + x + L).fma(FloatVector.fromArray(F, keys, k + x + L), a1);
                a2 = FloatVector.fromArray(F, q, q0 + x + 2 * L).fma(FloatVector.fromArray(F, keys, k + x + 2 * L), a2);
                a3 = FloatVector.fromArray(F, q, q0 + x + 3 * L).fma(FloatVector.fromArray(F, keys, k + x + 3 * L), a3);
            }
            for (; x + L <= d; x += L) {
                a0 = FloatVector.fromArray(F, q, q0 + x).fma(FloatVector.fromArray(F, keys, k + x), a0);
            }
            float sa = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
            for (; x < d; x++) sa += q[q0 + x] * keys[k + x];
            sc[row + i] = sa * scale;
        }
    }

    /**
     * Folds one tile's scores of head j into its running softmax: raises the maximum (rescaling the
     * sum and accumulator once if it grew) and turns the scores into weights exp(s − max).
     */
    private static void softmaxStep(Scratch s, int j, int n, int d) {
        float[] sc = s.scores;
        int row = j * TILE;
        // The last vector may run past n into stale slots of this head's row (TILE is a multiple of
        // the vector length): those lanes are masked out of the max and the sum, and never read later.
        int full = n - n % L;
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < full; i += L) vmax = vmax.max(FloatVector.fromArray(F, sc, row + i));
        VectorMask<Float> tail = F.indexInRange(full, n);
        if (full < n) vmax = vmax.max(FloatVector.fromArray(F, sc, row + full).blend(Float.NEGATIVE_INFINITY, tail.not()));
        float tileMax = vmax.reduceLanes(VectorOperators.MAX);
        float m = s.max[j];
        if (tileMax > m) {
            float c = (float) Math.exp(m - tileMax); // 0 when nothing was seen yet (m = −∞)
            s.sum[j] *= c;
            float[] acc = s.acc;
            int a = j * d;
            int x = 0;
            for (; x + L <= d; x += L) FloatVector.fromArray(F, acc, a + x).mul(c).intoArray(acc, a + x);
            for (; x < d; x++) acc[a + x] *= c;
            m = tileMax;
            s.max[j] = m;
        }
        FloatVector vsum = FloatVector.zero(F);
        for (int i = 0; i < full; i += L) {
            FloatVector p = FloatVector.fromArray(F, sc, row + i).sub(m).lanewise(VectorOperators.EXP);
            p.intoArray(sc, row + i);
            vsum = vsum.add(p);
        }
        if (full < n) {
            FloatVector p = FloatVector.fromArray(F, sc, row + full).sub(m).lanewise(VectorOperators.EXP);
            p.intoArray(sc, row + full);
            vsum = vsum.add(p, tail);
        }
        float total = vsum.reduceLanes(VectorOperators.ADD);
        s.sum[j] += total;
    }

    /**
     * acc[a0..) += Σ_i w0[i]·v_i and acc[a0 + d..) += Σ_i w1[i]·v_i for two heads: the accumulators of
     * a 32-float slice stay in registers over the whole tile and each value load feeds both heads.
     */
    private static void valuesPair(float[] values, int[] offs, int n, int d, float[] sc, int row, float[] acc, int a0) {
        int a1 = a0 + d;
        int row1 = row + TILE;
        int x = 0;
        for (; x + 4 * L <= d; x += 4 * L) {
            FloatVector u0 = FloatVector.fromArray(F, acc, a0 + x), u1 = FloatVector.fromArray(F, acc, a0 + x + L);
            FloatVector u2 = FloatVector.fromArray(F, acc, a0 + x + 2 * L), u3 = FloatVector.fromArray(F, acc, a0 + x + 3 * L);
            FloatVector w0 = FloatVector.fromArray(F, acc, a1 + x), w1 = FloatVector.fromArray(F, acc, a1 + x + L);
            FloatVector w2 = FloatVector.fromArray(F, acc, a1 + x + 2 * L), w3 = FloatVector.fromArray(F, acc, a1 + x + 3 * L);
            for (int i = 0; i < n; i++) {
                int v = offs[i] + x;
                FloatVector p = FloatVector.broadcast(F, sc[row + i]);
                FloatVector r = FloatVector.broadcast(F, sc[row1 + i]);
                FloatVector v0 = FloatVector.fromArray(F, values, v);
                FloatVector v1 = FloatVector.fromArray(F, values, v + L);
                FloatVector v2 = FloatVector.fromArray(F, values, v + 2 * L);
                FloatVector v3 = FloatVector.fromArray(F, values, v + 3 * L);
                u0 = v0.fma(p, u0);
                u1 = v1.fma(p, u1);
                u2 = v2.fma(p, u2);
                u3 = v3.fma(p, u3);
                w0 = v0.fma(r, w0);
                w1 = v1.fma(r, w1);
                w2 = v2.fma(r, w2);
                w3 = v3.fma(r, w3);
            }
            u0.intoArray(acc, a0 + x);
            u1.intoArray(acc, a0 + x + L);
            u2.intoArray(acc, a0 + x + 2 * L);
            u3.intoArray(acc, a0 + x + 3 * L);
            w0.intoArray(acc, a1 + x);
            w1.intoArray(acc, a1 + x + L);
            w2.intoArray(acc, a1 + x + 2 * L);
            w3.intoArray(acc, a1 + x + 3 * L);
        }
        for (; x + L <= d; x += L) {
            FloatVector u = FloatVector.fromArray(F, acc, a0 + x), w = FloatVector.fromArray(F, acc, a1 + x);
            for (int i = 0; i < n; i++) {
                FloatVector v = FloatVector.fromArray(F, values, offs[i] + x);
                u = v.fma(FloatVector.broadcast(F, sc[row + i]), u);
                w = v.fma(FloatVector.broadcast(F, sc[row1 + i]), w);
            }
            u.intoArray(acc, a0 + x);
            w.intoArray(acc, a1 + x);
        }
        for (; x < d; x++) {
            float u = acc[a0 + x], w = acc[a1 + x];
            for (int i = 0; i < n; i++) {
                float v = values[offs[i] + x];
                u += sc[row + i] * v;
                w += sc[row1 + i] * v;
            }
            acc[a0 + x] = u;
            acc[a1 + x] = w;
        }
    }

    /** acc[a..) += Σ_i w[i]·v_i for one head, a 32-float slice of accumulators in registers at a time. */
    private static void valuesOne(float[] values, int[] offs, int n, int d, float[] sc, int row, float[] acc, int a) {
        int x = 0;
        for (; x + 4 * L <= d; x += 4 * L) {
            FloatVector u0 = FloatVector.fromArray(F, acc, a + x), u1 = FloatVector.fromArray(F, acc, a + x + L);
            FloatVector u2 = FloatVector.fromArray(F, acc, a + x + 2 * L), u3 = FloatVector.fromArray(F, acc, a + x + 3 * L);
            for (int i = 0; i < n; i++) {
                int v = offs[i] + x;
                FloatVector p = FloatVector.broadcast(F, sc[row + i]);
                u0 = FloatVector.fromArray(F, values, v).fma(p, u0);
                u1 = FloatVector.fromArray(F, values, v + L).fma(p, u1);
                u2 = FloatVector.fromArray(F, values, v + 2 * L).fma(p, u2);
                u3 = FloatVector.fromArray(F, values, v + 3 * L).fma(p, u3);
            }
            u0.intoArray(acc, a + x);
            u1.intoArray(acc, a + x + L);
            u2.intoArray(acc, a + x + 2 * L);
            u3.intoArray(acc, a + x + 3 * L);
        }
        for (; x + L <= d; x += L) {
            FloatVector u = FloatVector.fromArray(F, acc, a + x);
            for (int i = 0; i < n; i++) {
                u = FloatVector.fromArray(F, values, offs[i] + x).fma(FloatVector.broadcast(F, sc[row + i]), u);
            }
            u.intoArray(acc, a + x);
        }
        for (; x < d; x++) {
            float u = acc[a + x];
            for (int i = 0; i < n; i++) u += sc[row + i] * values[offs[i] + x];
            acc[a + x] = u;
        }
    }
}
