package io.basalt.bench.kernels;

import io.basalt.backend.FlatBatch;
import io.basalt.backend.cpu.kernels.Attention;
import io.basalt.backend.cpu.kernels.VectorKernels;
import io.basalt.backend.cpu.model.ForwardMath;
import io.basalt.backend.cpu.model.KvStore;
import io.basalt.spi.Architecture;
import io.basalt.spi.Batch;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One query row's attention (GPT-2 shape: 12 heads × 64, one KV head per head) over a paged KV view
 * (blocks of 16 positions, shuffled through a pool) at a given context length:
 * <ul>
 *   <li>{@code legacy}: the previous ForwardMath.attention (scores array, three passes, scalar exp
 *       and value loop, per-call offset table), one thread;</li>
 *   <li>{@code kernel}: {@link Attention#attend} for every head group, one thread (offset table
 *       built per call, as ForwardMath does);</li>
 *   <li>{@code rows}: {@link ForwardMath#attentionRows} for the one row, split over head groups
 *       across the cores;</li>
 *   <li>{@code legacyPrefill} / {@code prefill}: the last 64 rows of a prompt of {@code context}
 *       tokens, the old row-parallel loop over the legacy kernel against attentionRows.</li>
 * </ul>
 * Run: {@code java --add-modules=jdk.incubator.vector -cp ... org.openjdk.jmh.Main AttentionBench}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBench {
    static final int HEADS = 12;
    static final int HEAD_DIM = 64;
    static final int KV_DIM = HEADS * HEAD_DIM;
    static final int BLOCK = 16;
    /** Rows of the prefill case: the last chunk of a prompt of {@code context} tokens. */
    static final int PREFILL_ROWS = 64;

    @Param({"128", "1024"})
    public int context;

    Paged kv;
    float[] q;
    float[] out;
    float[] scores;
    float scale;
    FlatBatch rows;
    float[][] qs;
    float[][] outs;
    FlatBatch prefillRows;
    float[][] prefillQ;
    float[][] prefillOut;

    @Setup
    public void setup() {
        Random rnd = new Random(42);
        kv = new Paged(context, rnd);
        q = new float[KV_DIM];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
        out = new float[KV_DIM];
        scores = new float[context];
        scale = (float) (1.0 / Math.sqrt(HEAD_DIM));
        rows = kv.batch(1);
        qs = new float[][] {q};
        outs = new float[][] {new float[KV_DIM]};
        int chunk = Math.min(PREFILL_ROWS, context);
        prefillRows = kv.batch(chunk);
        prefillQ = new float[chunk][KV_DIM];
        for (float[] row : prefillQ) for (int i = 0; i < row.length; i++) row[i] = (float) rnd.nextGaussian();
        prefillOut = new float[chunk][KV_DIM];
    }

    @Benchmark
    public float[] legacy() {
        legacyAttention(q, kv, 0, context - 1, HEADS, HEADS, HEAD_DIM, scale, 0, null, out, scores);
        return out;
    }

    @Benchmark
    public float[] kernel() {
        int pos = context - 1;
        int[] offsets = new int[pos + 1];
        for (int p = 0; p <= pos; p++) offsets[p] = kv.offset(p);
        Attention.Scratch scratch = Attention.scratch();
        for (int g = 0; g < HEADS; g++) {
            Attention.attend(q, g * HEAD_DIM, kv.keys, kv.values, offsets, 0, g * HEAD_DIM, 0, pos, 1, HEAD_DIM, scale,
                    null, g, out, g * HEAD_DIM, scratch);
        }
        return out;
    }

    @Benchmark
    public float[][] rows() {
        ForwardMath.attentionRows(rows, kv, 0, qs, HEADS, HEADS, HEAD_DIM, scale, 0, null, outs);
        return outs;
    }

    /** The previous attentionRows over a prefill chunk: rows split across the cores, each row alone. */
    @Benchmark
    public float[][] legacyPrefill() {
        int n = prefillRows.numRows();
        io.basalt.backend.cpu.kernels.Parallel.forRange(n, (long) KV_DIM * context, (start, end) -> {
            float[] sc = new float[context];
            for (int r = start; r < end; r++) {
                legacyAttention(prefillQ[r], kv, 0, prefillRows.position(r), HEADS, HEADS, HEAD_DIM, scale, 0, null,
                        prefillOut[r], sc);
            }
        });
        return prefillOut;
    }

    @Benchmark
    public float[][] prefill() {
        ForwardMath.attentionRows(prefillRows, kv, 0, prefillQ, HEADS, HEADS, HEAD_DIM, scale, 0, null, prefillOut);
        return prefillOut;
    }

    /** ForwardMath.attention as it was before the online-softmax kernel (commit 4ed1c6c). */
    static void legacyAttention(float[] q, Paged kv, int layer, int pos, int numHeads, int numKvHeads, int headDim,
                                float scale, int window, float[] sinks, float[] out, float[] scores) {
        float[] keys = kv.keys(layer);
        float[] values = kv.values(layer);
        int first = window > 0 ? Math.max(0, pos - window + 1) : 0;
        int group = numHeads / numKvHeads;
        int[] offsets = new int[pos + 1];
        for (int t = first; t <= pos; t++) offsets[t] = kv.offset(t);
        for (int h = 0; h < numHeads; h++) {
            int kvOff = (h / group) * headDim;
            int qOff = h * headDim;
            float max = sinks != null ? sinks[h] : Float.NEGATIVE_INFINITY;
            for (int t = first; t <= pos; t++) {
                float s = VectorKernels.dot(q, qOff, keys, offsets[t] + kvOff, headDim) * scale;
                scores[t] = s;
                if (s > max) max = s;
            }
            float sum = sinks != null ? (float) Math.exp(sinks[h] - max) : 0f;
            for (int t = first; t <= pos; t++) {
                scores[t] = (float) Math.exp(scores[t] - max);
                sum += scores[t];
            }
            float inv = 1f / sum;
            java.util.Arrays.fill(out, qOff, qOff + headDim, 0f);
            for (int t = first; t <= pos; t++) {
                float w = scores[t] * inv;
                int vOff = offsets[t] + kvOff;
                for (int d = 0; d < headDim; d++) out[qOff + d] += w * values[vOff + d];
            }
        }
    }

    /** One layer of a paged pool, the sequence's blocks shuffled through it as after some churn. */
    static final class Paged implements KvStore {
        final int length;
        final int[] blockTable;
        final float[] keys;
        final float[] values;

        Paged(int length, Random rnd) {
            this.length = length;
            int blocks = (length + BLOCK - 1) / BLOCK;
            List<Integer> ids = new ArrayList<>();
            for (int b = 0; b < 2 * blocks; b++) ids.add(b);
            Collections.shuffle(ids, rnd);
            blockTable = new int[blocks];
            for (int b = 0; b < blocks; b++) blockTable[b] = ids.get(b);
            keys = new float[2 * blocks * BLOCK * KV_DIM];
            values = new float[2 * blocks * BLOCK * KV_DIM];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = (float) rnd.nextGaussian();
                values[i] = (float) rnd.nextGaussian();
            }
        }

        @Override public float[] keys(int layer) { return keys; }

        @Override public float[] values(int layer) { return values; }

        int offset(int position) { return (blockTable[position / BLOCK] * BLOCK + position % BLOCK) * KV_DIM; }

        /** The sequence's last {@code numRows} positions as one step's rows. */
        FlatBatch batch(int numRows) {
            SequenceInput in = new SequenceInput(0, new int[numRows], length - numRows, blockTable, false);
            return FlatBatch.of(new Batch(List.of(), List.of(in), Batch.HiddenStates.NONE), BLOCK,
                    new ModelSpec(Architecture.GPT2, 1, length, 1, KV_DIM, 2L * 4 * KV_DIM));
        }
    }
}
