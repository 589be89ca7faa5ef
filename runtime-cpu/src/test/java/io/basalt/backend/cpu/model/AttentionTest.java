package io.basalt.backend.cpu.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.FlatBatch;
import io.basalt.spi.Architecture;
import io.basalt.spi.Batch;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ForwardMath#attentionRows} (the online-softmax kernel and its row × head-group split) against
 * a float64 two-pass softmax attention, reading keys and values through the rows' block tables
 * ({@link FlatBatch}). Each batch mixes a prefill chunk whose blocks are shuffled through the pool
 * (so consecutive blocks are never adjacent), a decode row on consecutive blocks, and a row at
 * position 0; sequences span several 16-position blocks and several 32-position tiles. Head sizes hit
 * the vector main loops, the single-vector loop and the scalar tail.
 */
class AttentionTest {
    static final int BLOCK = 16;
    /** Allowed |got − ref| per unit of Σ_t w_t·|v_t| (the scale of the weighted sum, as in KernelsTest), logits of order 1. */
    static final double REL_TOL = 1e-5;
    static double worst;

    @AfterAll
    static void report() {
        System.out.printf("AttentionTest: max |got-ref| / sum w|v| = %.3g%n", worst);
    }

    @Test
    void groupsAndHeadSizes() {
        long seed = 1;
        for (int group : new int[] {1, 2, 4, 8}) {
            for (int headDim : new int[] {64, 36, 20, 7}) {
                check(new Case(3 * group, 3, headDim, 0, false, 1f), seed++);
            }
        }
    }

    @Test
    void sinks() {
        long seed = 100;
        for (int group : new int[] {1, 2, 8}) {
            check(new Case(2 * group, 2, 64, 0, true, 1f), seed++);
            check(new Case(2 * group, 2, 20, 0, true, 1f), seed++);
        }
    }

    @Test
    void slidingWindowsIncludingOneLargerThanThePosition() {
        long seed = 200;
        for (int window : new int[] {1, 5, 16, 33, 128, 10_000}) {
            check(new Case(8, 2, 64, window, false, 1f), seed++);
            check(new Case(8, 1, 36, window, true, 1f), seed++); // gpt-oss: window and sinks together
        }
    }

    @Test
    void largeLogitsRescaleWithoutOverflow() {
        // Scores reach the hundreds: exp without the running maximum would overflow float. A float32
        // q·k of that size is itself off by ~|s|·2⁻²⁴·√headDim ≈ 1e-5, which each weight inherits.
        check(new Case(4, 2, 64, 0, false, 200f, 5e-5), 300);
        check(new Case(4, 2, 64, 0, true, 200f, 5e-5), 301);
        check(new Case(4, 4, 36, 24, true, 200f, 5e-5), 302);
    }

    /**
     * Prefill chunks that start at position 0 (the first tile holds every block's diagonal), one of
     * exactly eight rows at position 5, and one of 37 rows (four eight-row blocks of the lane-wise
     * kernel, five rows left to the per-row one), for MHA and GQA and a head size off the 8-multiple.
     */
    @Test
    void prefillBlocksFromTheFirstPosition() {
        long seed = 500;
        for (int[] shape : new int[][] {{4, 4, 64}, {8, 2, 64}, {2, 1, 20}}) {
            Random rnd = new Random(seed++);
            Case c = new Case(shape[0], shape[1], shape[2], 0, false, 2f);
            int kvDim = c.kvHeads() * c.headDim();
            Pool pool = new Pool(kvDim, rnd, c.logitScale());
            List<SequenceInput> chunks = List.of(new SequenceInput(0, new int[37], 0, pool.scattered(37), false),
                    new SequenceInput(1, new int[8], 5, pool.scattered(13), false));
            int[] positions = new int[45];
            for (int i = 0; i < 37; i++) positions[i] = i;
            for (int i = 0; i < 8; i++) positions[37 + i] = 5 + i;
            float[][] q = new float[45][c.heads() * c.headDim()];
            for (float[] row : q) fill(row, rnd, 1f);
            compare(c, pool, chunks, q, positions, null, (float) (1.0 / Math.sqrt(c.headDim())));
        }
    }

    @Test
    void increasingScoresRaiseTheMaximumEveryTile() {
        Random rnd = new Random(400);
        int heads = 4, kvHeads = 2, headDim = 64, kvDim = kvHeads * headDim, length = 150;
        Pool pool = new Pool(kvDim, rnd, 1f);
        int[] table = pool.scattered(length);
        float[] q = new float[heads * headDim];
        Arrays.fill(q, 1f);
        for (int p = 0; p < length; p++) {
            int at = (table[p / BLOCK] * BLOCK + p % BLOCK) * kvDim;
            for (int i = 0; i < kvDim; i++) pool.keys[at + i] = p * 0.02f; // score grows with p
        }
        int[] pos = {length - 1};
        List<SequenceInput> chunks = List.of(new SequenceInput(0, new int[1], length - 1, table, false));
        float[][] qs = {q};
        compare(new Case(heads, kvHeads, headDim, 0, true, 1f), pool, chunks, qs, pos, new float[heads], 0.125f);
    }

    record Case(int heads, int kvHeads, int headDim, int window, boolean sinks, float logitScale, double tolerance) {
        Case(int heads, int kvHeads, int headDim, int window, boolean sinks, float logitScale) {
            this(heads, kvHeads, headDim, window, sinks, logitScale, REL_TOL);
        }
    }

    private void check(Case c, long seed) {
        Random rnd = new Random(seed);
        int kvDim = c.kvHeads * c.headDim;
        Pool pool = new Pool(kvDim, rnd, c.logitScale);
        // Prefill of positions [40, 90) on shuffled blocks, a decode at 70 on consecutive blocks,
        // and a first token at 0.
        List<SequenceInput> chunks = List.of(
                new SequenceInput(0, new int[50], 40, pool.scattered(90), false),
                new SequenceInput(1, new int[1], 70, pool.consecutive(71), false),
                new SequenceInput(2, new int[1], 0, pool.scattered(1), false));
        int rows = 52;
        int[] positions = new int[rows];
        for (int i = 0; i < 50; i++) positions[i] = 40 + i;
        positions[50] = 70;
        positions[51] = 0;
        float[][] q = new float[rows][c.heads * c.headDim];
        for (float[] row : q) fill(row, rnd, 1f);
        float[] sinks = null;
        if (c.sinks) {
            sinks = new float[c.heads];
            for (int h = 0; h < c.heads; h++) sinks[h] = (float) (rnd.nextGaussian() * 2);
            sinks[0] = 30f; // a sink that outweighs every key
        }
        compare(c, pool, chunks, q, positions, sinks, (float) (1.0 / Math.sqrt(c.headDim)));
    }

    private void compare(Case c, Pool pool, List<SequenceInput> chunks, float[][] q, int[] positions, float[] sinks, float scale) {
        FlatBatch rows = FlatBatch.of(new Batch(List.of(), chunks, Batch.HiddenStates.NONE), BLOCK,
                new ModelSpec(Architecture.LLAMA, 1, 1 << 16, 1, 1, 1));
        int n = rows.numRows();
        float[][] out = new float[n][c.heads * c.headDim];
        for (float[] row : out) Arrays.fill(row, Float.NaN); // every element must be written
        ForwardMath.attentionRows(rows, pool, 0, q, c.heads, c.kvHeads, c.headDim, scale, c.window, sinks, out);
        for (int r = 0; r < n; r++) {
            assertTrue(rows.position(r) == positions[r]);
            int s = rows.sequence(r);
            double[][] ref = reference(q[r], pool, p -> rows.slot(s, p) * c.kvHeads * c.headDim, positions[r], c, scale, sinks);
            for (int h = 0; h < c.heads; h++) {
                for (int d = 0; d < c.headDim; d++) {
                    double got = out[r][h * c.headDim + d];
                    double err = Math.abs(got - ref[0][h * c.headDim + d]) / (ref[1][h * c.headDim + d] + 1e-30);
                    if (c.tolerance == REL_TOL) worst = Math.max(worst, err);
                    assertTrue(err <= c.tolerance, c + " row " + r + " (position " + positions[r] + ") head " + h + " dim " + d
                            + ": got " + got + ", expected " + ref[0][h * c.headDim + d] + " (relative error " + err + ")");
                }
            }
        }
    }

    /** [0]: the attention output; [1]: Σ_t w_t·|v_t| per element, the scale its error is measured against. */
    private static double[][] reference(float[] q, Pool kv, java.util.function.IntUnaryOperator offset, int pos, Case c, float scale,
                                        float[] sinks) {
        int group = c.heads / c.kvHeads;
        int first = c.window > 0 ? Math.max(0, pos - c.window + 1) : 0;
        double[][] result = new double[2][c.heads * c.headDim];
        for (int h = 0; h < c.heads; h++) {
            int kvOff = (h / group) * c.headDim;
            double[] s = new double[pos + 1];
            double max = sinks != null ? sinks[h] : Double.NEGATIVE_INFINITY;
            for (int t = first; t <= pos; t++) {
                double dot = 0;
                for (int d = 0; d < c.headDim; d++) dot += (double) q[h * c.headDim + d] * kv.keys[offset.applyAsInt(t) + kvOff + d];
                s[t] = dot * scale;
                max = Math.max(max, s[t]);
            }
            double sum = sinks != null ? Math.exp(sinks[h] - max) : 0;
            for (int t = first; t <= pos; t++) sum += Math.exp(s[t] - max);
            for (int t = first; t <= pos; t++) {
                double w = Math.exp(s[t] - max) / sum;
                for (int d = 0; d < c.headDim; d++) {
                    double v = kv.values[offset.applyAsInt(t) + kvOff + d];
                    result[0][h * c.headDim + d] += w * v;
                    result[1][h * c.headDim + d] += w * Math.abs(v);
                }
            }
        }
        return result;
    }

    private static void fill(float[] a, Random rnd, float scale) {
        for (int i = 0; i < a.length; i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
    }

    /**
     * One layer of a paged pool, keys and values random. {@link #scattered} hands out blocks of 16 positions in
     * shuffled order from even block ids of a fresh region twice the size needed, so no two blocks of the sequence
     * are adjacent; {@link #consecutive} hands out a run of adjacent ones. Sequences never share a block.
     */
    static final class Pool implements KvStore {
        static final int BLOCKS = 64;
        final int kvDim;
        final float[] keys;
        final float[] values;
        private final Random rnd;
        private int nextFree;

        Pool(int kvDim, Random rnd, float logitScale) {
            this.kvDim = kvDim;
            this.rnd = rnd;
            keys = new float[BLOCKS * BLOCK * kvDim];
            values = new float[BLOCKS * BLOCK * kvDim];
            fill(keys, rnd, logitScale);
            fill(values, rnd, 1f);
        }

        int[] scattered(int length) {
            int blocks = (length + BLOCK - 1) / BLOCK;
            List<Integer> order = new ArrayList<>();
            for (int b = 0; b < blocks; b++) order.add(b);
            Collections.shuffle(order, rnd);
            int[] table = new int[blocks];
            for (int b = 0; b < blocks; b++) table[b] = nextFree + 2 * order.get(b); // even offsets: never adjacent
            nextFree += 2 * blocks;
            return table;
        }

        int[] consecutive(int length) {
            int[] table = new int[(length + BLOCK - 1) / BLOCK];
            for (int b = 0; b < table.length; b++) table[b] = nextFree++;
            return table;
        }

        @Override public float[] keys(int layer) { return keys; }

        @Override public float[] values(int layer) { return values; }
    }
}
