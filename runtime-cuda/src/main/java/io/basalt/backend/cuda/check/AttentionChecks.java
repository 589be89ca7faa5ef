package io.basalt.backend.cuda.check;

import static io.basalt.backend.cuda.check.KernelChecks.FP32;
import static io.basalt.backend.cuda.check.KernelChecks.ceil;
import static io.basalt.backend.cuda.check.KernelChecks.poisoned;
import static io.basalt.backend.cuda.check.KernelChecks.randn;
import static io.basalt.backend.cuda.check.KernelChecks.relL2;

import io.basalt.backend.cuda.CudaProbe;
import io.basalt.backend.cuda.check.KernelChecks.Check;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Step 3, the position and attention kernels: RoPE in place on fused rows, basalt_kv_store into a paged cache whose
 * block tables are shuffled, paged attention (GQA, sliding window, sinks) and the split-KV pair against the same
 * double-precision reference. The semantics are docs/CUDA.md §4's (the comments heading native/cuda/standin/refs.c).
 */
final class AttentionChecks {
    static final int BLOCK_SIZE = 16;
    static final int SPLITS = 4;
    /** What never-written cache slots hold: finite (a kernel may load a masked position), but far off any real value. */
    static final float CACHE_POISON = 1000f;

    private final CudaProbe probe;
    private final SplittableRandom random;

    AttentionChecks(CudaProbe probe, SplittableRandom random) {
        this.probe = probe;
        this.random = random;
    }

    void addTo(List<Check> out, boolean quick) {
        int n = quick ? 3 : 16;
        float yarn = (float) (0.1 * Math.log(32) + 1); // gpt-oss's YaRN attention factor for a scaling factor of 32
        KernelChecks.run(out, "rope interleaved (GPT-J) 64/64 dims", () -> rope(n, false, 64, 64, 1f, false));
        KernelChecks.run(out, "rope interleaved 32/64 dims", () -> rope(n, false, 64, 32, 1f, false));
        KernelChecks.run(out, "rope half-split (NeoX) 32/64 dims", () -> rope(n, true, 64, 32, 1f, false));
        KernelChecks.run(out, "rope half-split YaRN mscale " + String.format(Locale.ROOT, "%.3f", yarn), () -> rope(n, true, 64, 64, yarn, true));
        int[] contexts = quick ? new int[] {1, 17, 129} : new int[] {1, 17, 129, 4096};
        paged(out, "GQA 4", quick ? 8 : 32, quick ? 2 : 8, quick ? 64 : 128, 0, false, contexts);
        paged(out, "GQA 8", quick ? 16 : 64, quick ? 2 : 8, 64, 0, false, contexts);
        paged(out, "GQA 8 window 128", quick ? 16 : 64, quick ? 2 : 8, 64, 128, false, contexts);
        paged(out, "GQA 8 sinks", quick ? 16 : 64, quick ? 2 : 8, 64, 0, true, contexts);
    }

    // ---- rope --------------------------------------------------------------------------------------------------------------

    /**
     * The K part of fused qkv rows (4 query heads, 2 KV heads, a 4-float tail) rotated in place at random positions:
     * stride and offset as the runners pass them. Everything outside the rotated dims must come back unchanged.
     */
    private Check rope(int n, boolean halfSplit, int headDim, int rotaryDims, float mscale, boolean ramp) {
        int heads = 2, stride = (4 + 2 * heads) * headDim + 4, offset = 4 * headDim;
        float[] x = randn(random, n * stride);
        int[] pos = new int[n];
        for (int i = 1; i < n; i++) pos[i] = random.nextInt(8192);
        float[] invFreq = invFreq(rotaryDims, ramp);
        double[] ref = new double[x.length];
        for (int i = 0; i < x.length; i++) ref[i] = x[i];
        for (int i = 0; i < n; i++) rotateRow(ref, i * stride + offset, pos[i], invFreq, mscale, heads, headDim, rotaryDims, halfSplit);
        probe.launchOnHost("basalt_rope", new int[] {n, heads}, new int[] {64}, x, stride, offset, pos, invFreq, mscale, n, heads, headDim,
                rotaryDims, halfSplit ? 1 : 0);
        return new Check("", relL2(x, ref), FP32, "stride " + stride + ", offset " + offset + (ramp ? ", ramped inv_freq" : ""));
    }

    /** θ = 150000 frequencies; {@code ramp} divides the low half by 32 as YaRN's interpolation does (shape only). */
    private static float[] invFreq(int rotaryDims, boolean ramp) {
        float[] f = new float[rotaryDims / 2];
        for (int j = 0; j < f.length; j++) {
            double v = Math.pow(150000, -2.0 * j / rotaryDims);
            f[j] = (float) (ramp && j >= f.length / 2 ? v / 32 : v);
        }
        return f;
    }

    private static void rotateRow(double[] row, int base0, int pos, float[] invFreq, float mscale, int heads, int headDim, int rotaryDims,
                                  boolean halfSplit) {
        int half = rotaryDims / 2;
        for (int j = 0; j < half; j++) {
            double angle = (float) pos * invFreq[j]; // the float32 angle, as the CPU Rope and every kernel compute it
            double c = Math.cos(angle) * mscale, s = Math.sin(angle) * mscale;
            for (int h = 0; h < heads; h++) {
                int base = base0 + h * headDim;
                int a = halfSplit ? base + j : base + 2 * j;
                int b = halfSplit ? base + j + half : a + 1;
                double x0 = row[a], x1 = row[b];
                row[a] = x0 * c - x1 * s;
                row[b] = x1 * c + x0 * s;
            }
        }
    }

    // ---- paged KV cache ----------------------------------------------------------------------------------------------------

    /** One paged cache: per sequence its K and V rows by position ([ctx][kvDim]), the device-written caches, the tables. */
    private record Cache(int kvHeads, int headDim, int[] contexts, float[][] keys, float[][] values, float[] kCache, float[] vCache,
                         int[] tables, int maxBlocks) {
        int kvDim() { return kvHeads * headDim; }
    }

    /** The attention inputs of one case: rows (decode rows, one per sequence, plus an earlier prefill-like row). */
    private record Rows(int heads, float[] q, int qStride, int qOffset, int[] seq, int[] pos, float scale, int window, float[] sinks) {
        int n() { return seq.length; }
    }

    private void paged(List<Check> out, String label, int heads, int kvHeads, int headDim, int window, boolean sinks, int[] contexts) {
        Cache[] cache = new Cache[1];
        String shape = heads + "/" + kvHeads + " heads, ctx " + Arrays.toString(contexts);
        KernelChecks.run(out, "kv_store paged " + label, () -> {
            Store s = store(kvHeads, headDim, contexts);
            cache[0] = s.cache();
            return s.check();
        });
        if (cache[0] == null) return; // the kv_store row says why; the attention rows would only repeat it
        Rows rows = rows(cache[0], heads, window, sinks);
        double[] ref = reference(cache[0], rows);
        KernelChecks.run(out, "attention " + label, () -> attention(cache[0], rows, ref, shape));
        KernelChecks.run(out, "attention_split/attention_reduce " + label, () -> split(cache[0], rows, ref, shape));
    }

    private record Store(Cache cache, Check check) { }

    /**
     * Writes every position of every sequence through basalt_kv_store from strided rows (K at offset 8, V after a gap),
     * into blocks handed out in shuffled order; one extra row has slot -1 and must be skipped. Unused table entries and
     * never-written slots hold {@link #CACHE_POISON}, so reading past a row's position shows.
     */
    private Store store(int kvHeads, int headDim, int[] contexts) {
        int kvDim = kvHeads * headDim, seqs = contexts.length;
        int maxBlocks = 0, used = 0, tokens = 1;
        for (int c : contexts) {
            maxBlocks = Math.max(maxBlocks, ceil(c, BLOCK_SIZE));
            used += ceil(c, BLOCK_SIZE);
            tokens += c;
        }
        int pool = used + 2; // block ids `used` and `used + 1` stay unwritten
        int[] order = shuffled(pool);
        int[] tables = new int[seqs * maxBlocks];
        int next = 0;
        for (int s = 0; s < seqs; s++) {
            for (int b = 0; b < maxBlocks; b++) tables[s * maxBlocks + b] = b < ceil(contexts[s], BLOCK_SIZE) ? order[next++] : order[pool - 1];
        }
        int kOffset = 8, vOffset = 16 + kvDim, stride = vOffset + kvDim + 8;
        float[] src = randn(random, tokens * stride);
        int[] slots = new int[tokens];
        float[][] keys = new float[seqs][], values = new float[seqs][];
        int t = 0;
        for (int s = 0; s < seqs; s++) {
            keys[s] = new float[contexts[s] * kvDim];
            values[s] = new float[contexts[s] * kvDim];
            for (int p = 0; p < contexts[s]; p++, t++) {
                slots[t] = tables[s * maxBlocks + p / BLOCK_SIZE] * BLOCK_SIZE + p % BLOCK_SIZE;
                System.arraycopy(src, t * stride + kOffset, keys[s], p * kvDim, kvDim);
                System.arraycopy(src, t * stride + vOffset, values[s], p * kvDim, kvDim);
            }
        }
        slots[t] = -1;
        float[] kCache = new float[pool * BLOCK_SIZE * kvDim], vCache = new float[kCache.length];
        Arrays.fill(kCache, CACHE_POISON);
        Arrays.fill(vCache, CACHE_POISON);
        float[] wantK = kCache.clone(), wantV = vCache.clone();
        for (int i = 0; i < tokens - 1; i++) {
            System.arraycopy(src, i * stride + kOffset, wantK, slots[i] * kvDim, kvDim);
            System.arraycopy(src, i * stride + vOffset, wantV, slots[i] * kvDim, kvDim);
        }
        probe.launchOnHost("basalt_kv_store", new int[] {tokens}, new int[] {256}, kCache, vCache, src, stride, kOffset, vOffset, slots, tokens, kvDim);
        long wrong = mismatches(kCache, wantK) + mismatches(vCache, wantV);
        Cache cache = new Cache(kvHeads, headDim, contexts, keys, values, kCache, vCache, tables, maxBlocks);
        return new Store(cache, new Check("", wrong, 0, wrong == 0 ? tokens + " rows (one with slot -1), exact, shuffled blocks of " + BLOCK_SIZE
                : wrong + " cache floats differ from the rows written (or a slot not written was touched)"));
    }

    private static long mismatches(float[] got, float[] want) {
        long wrong = 0;
        for (int i = 0; i < got.length; i++) if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) wrong++;
        return wrong;
    }

    private int[] shuffled(int count) {
        int[] a = new int[count];
        for (int i = 0; i < count; i++) a[i] = i;
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1), x = a[i];
            a[i] = a[j];
            a[j] = x;
        }
        return a;
    }

    /** A decode row per sequence at its last position, plus the longest sequence again at position 20 (a prefill row). */
    private Rows rows(Cache c, int heads, int window, boolean sinks) {
        int seqs = c.contexts().length, longest = 0;
        for (int s = 1; s < seqs; s++) if (c.contexts()[s] > c.contexts()[longest]) longest = s;
        int n = seqs + 1;
        int[] seq = new int[n], pos = new int[n];
        for (int s = 0; s < seqs; s++) {
            seq[s] = s;
            pos[s] = c.contexts()[s] - 1;
        }
        seq[seqs] = longest;
        pos[seqs] = Math.min(20, c.contexts()[longest] - 1);
        int qOffset = 8, qStride = qOffset + heads * c.headDim();
        return new Rows(heads, randn(random, n * qStride), qStride, qOffset, seq, pos, (float) (1 / Math.sqrt(c.headDim())), window,
                sinks ? randn(random, heads) : null);
    }

    /** Softmax attention in double, sinks joining the max and the denominator only (docs/CUDA.md §4). */
    private static double[] reference(Cache c, Rows r) {
        int hd = c.headDim(), kvDim = c.kvDim(), group = r.heads() / c.kvHeads();
        double[] out = new double[r.n() * r.heads() * hd];
        for (int i = 0; i < r.n(); i++) {
            int pos = r.pos()[i], first = r.window() > 0 ? Math.max(0, pos - r.window() + 1) : 0;
            float[] k = c.keys()[r.seq()[i]], v = c.values()[r.seq()[i]];
            for (int h = 0; h < r.heads(); h++) {
                int q0 = i * r.qStride() + r.qOffset() + h * hd, kv0 = (h / group) * hd;
                double[] score = new double[pos + 1 - first];
                double m = r.sinks() == null ? Double.NEGATIVE_INFINITY : r.sinks()[h];
                for (int p = first; p <= pos; p++) {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double) r.q()[q0 + d] * k[p * kvDim + kv0 + d];
                    score[p - first] = s * r.scale();
                    m = Math.max(m, score[p - first]);
                }
                double l = r.sinks() == null ? 0 : Math.exp(r.sinks()[h] - m);
                int o = (i * r.heads() + h) * hd;
                for (int p = first; p <= pos; p++) {
                    double w = Math.exp(score[p - first] - m);
                    l += w;
                    for (int d = 0; d < hd; d++) out[o + d] += w * v[p * kvDim + kv0 + d];
                }
                for (int d = 0; d < hd; d++) out[o + d] = l > 0 ? out[o + d] / l : 0;
            }
        }
        return out;
    }

    private Check attention(Cache c, Rows r, double[] ref, String shape) {
        float[] out = poisoned(ref.length);
        probe.launchOnHost("basalt_attention", new int[] {r.n(), c.kvHeads()}, new int[] {128}, out, r.q(), r.qStride(), r.qOffset(),
                c.kCache(), c.vCache(), c.tables(), c.maxBlocks(), r.seq(), r.pos(), r.n(), r.heads(), c.kvHeads(), c.headDim(), BLOCK_SIZE,
                r.scale(), r.window(), r.sinks());
        return new Check("", relL2(out, ref), FP32, shape + ", head_dim " + c.headDim());
    }

    /**
     * basalt_attention_split then basalt_attention_reduce, with split_len as a runner picks it: the longest attended
     * span over the splits, rounded up to whole blocks (so short rows leave their last splits empty: m = -inf, l = 0).
     */
    private Check split(Cache c, Rows r, double[] ref, String shape) {
        int longest = 0;
        for (int i = 0; i < r.n(); i++) longest = Math.max(longest, r.window() > 0 ? Math.min(r.window(), r.pos()[i] + 1) : r.pos()[i] + 1);
        int splitLen = ceil(ceil(longest, SPLITS), BLOCK_SIZE) * BLOCK_SIZE;
        float[] acc = poisoned(r.n() * r.heads() * SPLITS * c.headDim()), ml = poisoned(r.n() * r.heads() * SPLITS * 2);
        probe.launchOnHost("basalt_attention_split", new int[] {r.n(), c.kvHeads(), SPLITS}, new int[] {128}, acc, ml, r.q(), r.qStride(),
                r.qOffset(), c.kCache(), c.vCache(), c.tables(), c.maxBlocks(), r.seq(), r.pos(), r.n(), r.heads(), c.kvHeads(), c.headDim(),
                BLOCK_SIZE, r.scale(), r.window(), SPLITS, splitLen);
        for (int i = 0; i < ml.length; i += 2) {
            if (Float.isNaN(ml[i]) || Float.isNaN(ml[i + 1])) return new Check("", Double.NaN, FP32, "basalt_attention_split left part_ml unwritten");
        }
        for (float a : acc) if (Float.isNaN(a)) return new Check("", Double.NaN, FP32, "basalt_attention_split left part_acc unwritten");
        float[] out = poisoned(ref.length);
        probe.launchOnHost("basalt_attention_reduce", new int[] {r.n(), r.heads()}, new int[] {128}, out, acc, ml, r.n(), r.heads(),
                c.headDim(), SPLITS, r.sinks());
        return new Check("", relL2(out, ref), FP32, shape + ", " + SPLITS + " splits of " + splitLen);
    }
}
