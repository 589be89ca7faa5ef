package io.basalt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.cpu.kernels.Attention;
import io.basalt.backend.cpu.kernels.Mxfp4Experts;
import io.basalt.backend.cpu.kernels.WeightMatrices;
import io.basalt.backend.cpu.kernels.WeightConversion;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.backend.cpu.model.ForwardMath;
import io.basalt.backend.cpu.model.KvStore;
import io.basalt.model.DType;
import io.basalt.model.layout.Rope;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The stand-in libcuda's C references (basalt_ref_&lt;kernel&gt;, native/cuda/standin/refs.c) against the Java CPU
 * kernels they stand for (ForwardMath, Attention, Mxfp4Experts, Rope, GptOss routing), one test per kernel of
 * kernels/cuda/kernels.abi, on random inputs in host memory: what the stand-in computes for a launch is then what the
 * CPU backend computes, so tests of the cuda backend on the stand-in compare like with like.
 */
class StandinReferenceKernelsTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
    private static final MemoryLayout P = ValueLayout.ADDRESS;
    private static final SymbolLookup LIB = load();

    private Arena arena;
    private final Random random = new Random(19);

    private static SymbolLookup load() {
        String path = System.getProperty("basalt.cuda.standin");
        assertTrue(path != null && Files.isRegularFile(Path.of(path)), "no stand-in libcuda at " + path);
        return SymbolLookup.libraryLookup(Path.of(path), Arena.global());
    }

    private static MethodHandle ref(String kernel, MemoryLayout... args) {
        MemorySegment fn = LIB.find("basalt_ref_" + kernel).orElseThrow(() -> new AssertionError("no basalt_ref_" + kernel));
        return Linker.nativeLinker().downcallHandle(fn, FunctionDescriptor.ofVoid(args));
    }

    @BeforeEach
    void open() { arena = Arena.ofShared(); } // the CPU kernels' worker threads read the weights

    @AfterEach
    void close() { arena.close(); }

    // ---- helpers ----

    private float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = random.nextFloat() * 2f - 1f;
        return a;
    }

    private MemorySegment seg(float[] a) { return arena.allocateFrom(F, a); }

    private MemorySegment seg(int[] a) { return arena.allocateFrom(I, a); }

    private MemorySegment floats(long n) { return arena.allocate(F, Math.max(1, n)); }

    private static float[] get(MemorySegment s) { return s.toArray(F); }

    private static float[] flat(float[][] a) {
        int n = 0;
        for (float[] r : a) n += r.length;
        float[] out = new float[n];
        int o = 0;
        for (float[] r : a) { System.arraycopy(r, 0, out, o, r.length); o += r.length; }
        return out;
    }

    /** max |e − a| ≤ 1e-5 · max(1, max |e|). */
    private static void close(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        float scale = 1f;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        float worst = 0f;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            float d = Math.abs(expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        float tol = 1e-5f * scale;
        if (!(worst <= tol)) {
            throw new AssertionError(what + ": max error " + worst + " > " + tol + " at " + at + " (expected "
                    + expected[at] + ", got " + actual[at] + ")");
        }
    }

    /** bf16 bits of random values (exactly representable after widening). */
    private short[] bf16(int n) {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) s[i] = (short) (Float.floatToRawIntBits(random.nextFloat() * 2f - 1f) >>> 16);
        return s;
    }

    private static float[] widen(short[] s) {
        float[] f = new float[s.length];
        for (int i = 0; i < s.length; i++) f[i] = Float.intBitsToFloat((s[i] & 0xFFFF) << 16);
        return f;
    }

    private WeightMatrix matrix(float[] w, short[] wb, int rows, int cols) {
        MemorySegment data = wb != null ? arena.allocateFrom(ValueLayout.JAVA_SHORT, wb) : seg(w);
        return WeightMatrices.rowMajor(data, wb != null ? DType.BF16 : DType.F32, rows, cols, arena);
    }

    // ---- one test per ABI kernel ----

    @Test
    void embed() throws Throwable {
        MethodHandle h = ref("embed", P, P, I, P, I, I);
        int vocab = 37, dim = 48, n = 9;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = random.nextInt(vocab);
        for (boolean bf : new boolean[] {false, true}) {
            float[] w = rand(vocab * dim);
            short[] wb = bf ? bf16(vocab * dim) : null;
            float[] expected = flat(ForwardMath.embed(matrix(w, wb, vocab, dim), ids));
            MemorySegment out = floats((long) n * dim);
            MemorySegment table = bf ? arena.allocateFrom(ValueLayout.JAVA_SHORT, wb) : seg(w);
            h.invokeExact(out, table, bf ? 1 : 0, seg(ids), n, dim);
            assertArrayEquals(expected, get(out), bf ? "bf16 table" : "fp32 table"); // a copy or an exact widening
        }
    }

    @Test
    void add() throws Throwable {
        MethodHandle h = ref("add", P, P, J);
        int n = 1000;
        float[] x = rand(n), y = rand(n);
        MemorySegment xs = seg(x);
        h.invokeExact(xs, seg(y), (long) n);
        ForwardMath.add(x, y, n);
        assertArrayEquals(x, get(xs));
    }

    @Test
    void rmsnorm() throws Throwable {
        MethodHandle h = ref("rmsnorm", P, P, P, I, I, F);
        int n = 5, dim = 72;
        float eps = 1e-5f;
        float[] x = rand(n * dim), w = rand(dim);
        MemorySegment out = floats((long) n * dim);
        h.invokeExact(out, seg(x), seg(w), n, dim, eps);
        float[] expected = new float[n * dim];
        for (int i = 0; i < n; i++) {
            float[] o = new float[dim];
            ForwardMath.rmsNorm(o, Arrays.copyOfRange(x, i * dim, (i + 1) * dim), w, eps);
            System.arraycopy(o, 0, expected, i * dim, dim);
        }
        close(expected, get(out), "rmsnorm");
    }

    @Test
    void layernorm() throws Throwable {
        MethodHandle h = ref("layernorm", P, P, P, P, I, I, F);
        int n = 4, dim = 80;
        float eps = 1e-5f;
        float[] x = rand(n * dim), w = rand(dim), b = rand(dim);
        for (int i = 0; i < x.length; i++) x[i] += 3f; // a mean to remove
        MemorySegment out = floats((long) n * dim);
        h.invokeExact(out, seg(x), seg(w), seg(b), n, dim, eps);
        float[] expected = new float[n * dim];
        for (int i = 0; i < n; i++) {
            float[] o = new float[dim];
            ForwardMath.layerNorm(o, Arrays.copyOfRange(x, i * dim, (i + 1) * dim), w, b, eps);
            System.arraycopy(o, 0, expected, i * dim, dim);
        }
        close(expected, get(out), "layernorm");
    }

    @Test
    void matmul() throws Throwable {
        MethodHandle h = ref("matmul", P, P, I, P, P, I, I, I);
        int rows = 45, cols = 96, n = 7;
        for (boolean bf : new boolean[] {false, true}) {
            for (boolean withBias : new boolean[] {false, true}) {
                float[] w = rand(rows * cols);
                short[] wb = bf ? bf16(rows * cols) : null;
                float[][] x = new float[n][];
                for (int i = 0; i < n; i++) x[i] = rand(cols);
                float[] bias = rand(rows);
                float[][] y = new float[n][rows];
                matrix(w, wb, rows, cols).matmul(x, y);
                if (withBias) for (float[] r : y) for (int i = 0; i < rows; i++) r[i] += bias[i];
                MemorySegment out = floats((long) n * rows);
                MemorySegment ws = bf ? arena.allocateFrom(ValueLayout.JAVA_SHORT, wb) : seg(w);
                h.invokeExact(out, ws, bf ? 1 : 0, seg(flat(x)),
                        (MemorySegment) (withBias ? seg(bias) : MemorySegment.NULL), rows, cols, n);
                close(flat(y), get(out), "matmul bf16=" + bf + " bias=" + withBias);
            }
        }
    }

    @Test
    void rope() throws Throwable {
        MethodHandle h = ref("rope", P, I, I, P, P, F, I, I, I, I, I);
        int n = 6, heads = 3, headDim = 32, stride = 5 * headDim + 3, offset = 2 * headDim + 1;
        for (Rope.Style style : Rope.Style.values()) {
            for (int rotary : new int[] {headDim, headDim / 2}) {
                float[] inv = Rope.standard(style, rotary, 10000f).invFreq();
                float mscale = 1.25f;
                Rope rope = new Rope(style, rotary, inv, mscale);
                float[] x = rand(n * stride);
                int[] pos = new int[n];
                for (int i = 0; i < n; i++) pos[i] = random.nextInt(4000);
                MemorySegment xs = seg(x);
                h.invokeExact(xs, stride, offset, seg(pos), seg(inv), mscale, n, heads, headDim, rotary,
                        style == Rope.Style.HALF_SPLIT ? 1 : 0);
                float[] expected = x.clone();
                for (int i = 0; i < n; i++) {
                    float[] v = Arrays.copyOfRange(expected, i * stride + offset, i * stride + offset + heads * headDim);
                    rope.apply(v, heads, headDim, pos[i]);
                    System.arraycopy(v, 0, expected, i * stride + offset, v.length);
                }
                close(expected, get(xs), "rope " + style + " rotary=" + rotary);
            }
        }
    }

    @Test
    void kvStore() throws Throwable {
        MethodHandle h = ref("kv_store", P, P, P, I, I, I, P, I, I);
        int n = 5, kvDim = 24, slotsTotal = 40, stride = 4 * kvDim + 5, kOff = 2 * kvDim, vOff = 3 * kvDim + 5;
        float[] src = rand(n * stride);
        List<Integer> all = new ArrayList<>();
        for (int s = 0; s < slotsTotal; s++) all.add(s);
        Collections.shuffle(all, random);
        int[] slots = new int[n];
        for (int i = 0; i < n; i++) slots[i] = all.get(i);
        float[] keys = rand(slotsTotal * kvDim), values = rand(slotsTotal * kvDim);
        MemorySegment ks = seg(keys), vs = seg(values);
        h.invokeExact(ks, vs, seg(src), stride, kOff, vOff, seg(slots), n, kvDim);
        KvStore kv = new KvStore() {
            @Override public float[] keys(int layer) { return keys; }
            @Override public float[] values(int layer) { return values; }
        };
        for (int i = 0; i < n; i++) {
            float[] row = Arrays.copyOfRange(src, i * stride, (i + 1) * stride);
            ForwardMath.storeKv(kv, 0, slots[i], row, kOff, row, vOff, kvDim);
        }
        assertArrayEquals(keys, get(ks));
        assertArrayEquals(values, get(vs));
        // a negative slot (a padded row) writes nothing
        h.invokeExact(ks, vs, seg(src), stride, kOff, vOff, seg(new int[] {-1}), 1, kvDim);
        assertArrayEquals(keys, get(ks));
    }

    /** A paged batch: sequences with shuffled block tables, prefill and decode rows, fp32 KV of one layer. */
    private final class Paged {
        final int heads = 8, kvHeads = 2, blockSize = 4, maxBlocks = 6, qStride, qOffset = 5;
        final int headDim;
        final int[] rowSeq, rowPos, tables;
        final float[] q, keys, values, sinks;
        final int n;

        Paged(int headDim) {
            this.headDim = headDim;
            int seqs = 3, kvDim = kvHeads * headDim;
            qStride = heads * headDim + 9;
            int[] lens = {17, 23, 9};
            List<Integer> blocks = new ArrayList<>();
            for (int b = 0; b < seqs * maxBlocks; b++) blocks.add(b);
            Collections.shuffle(blocks, random);
            tables = new int[seqs * maxBlocks];
            for (int i = 0; i < tables.length; i++) tables[i] = blocks.get(i);
            keys = rand(seqs * maxBlocks * blockSize * kvDim);
            values = rand(seqs * maxBlocks * blockSize * kvDim);
            // rows: the last 4 positions of sequence 0 (prefill chunk), a decode row each for 1 and 2, and a first token
            int[][] rows = {{0, 13}, {0, 14}, {0, 15}, {0, 16}, {1, 22}, {2, 8}, {2, 0}};
            n = rows.length;
            rowSeq = new int[n];
            rowPos = new int[n];
            for (int i = 0; i < n; i++) { rowSeq[i] = rows[i][0]; rowPos[i] = rows[i][1]; }
            assertTrue(lens[0] > 16 && lens[1] > 22);
            q = rand(n * qStride);
            for (int i = 0; i < q.length; i++) q[i] *= 3f; // peaky enough to matter
            sinks = rand(heads);
        }

        int slot(int seq, int p) { return tables[seq * maxBlocks + p / blockSize] * blockSize + p % blockSize; }

        /** Attention.attend per row and KV head group: the CPU backend's attention. */
        float[] expected(float scale, int window, float[] sink) {
            int group = heads / kvHeads, kvDim = kvHeads * headDim;
            float[] out = new float[n * heads * headDim];
            Attention.Scratch scratch = Attention.scratch();
            for (int i = 0; i < n; i++) {
                int pos = rowPos[i];
                int first = window > 0 ? Math.max(0, pos - window + 1) : 0; // ForwardMath.firstAttended
                int[] offsets = new int[pos - first + 1];
                for (int p = first; p <= pos; p++) offsets[p - first] = slot(rowSeq[i], p) * kvDim;
                float[] qi = Arrays.copyOfRange(q, i * qStride + qOffset, i * qStride + qOffset + heads * headDim);
                float[] oi = new float[heads * headDim];
                for (int g = 0; g < kvHeads; g++) {
                    int qOff = g * group * headDim;
                    Attention.attend(qi, qOff, keys, values, offsets, first, g * headDim, first, pos, group, headDim,
                            scale, sink, g * group, oi, qOff, scratch);
                }
                System.arraycopy(oi, 0, out, i * heads * headDim, oi.length);
            }
            return out;
        }

        MemorySegment split(float scale, int window, int splits, int splitLen, MemorySegment ml) throws Throwable {
            MethodHandle h = ref("attention_split", P, P, P, I, I, P, P, P, I, P, P, I, I, I, I, I, F, I, I, I);
            MemorySegment acc = floats((long) n * heads * splits * headDim);
            h.invokeExact(acc, ml, seg(q), qStride, qOffset, seg(keys), seg(values), seg(tables), maxBlocks,
                    seg(rowSeq), seg(rowPos), n, heads, kvHeads, headDim, blockSize, scale, window, splits, splitLen);
            return acc;
        }
    }

    @Test
    void attention() throws Throwable {
        MethodHandle h = ref("attention", P, P, I, I, P, P, P, I, P, P, I, I, I, I, I, F, I, P);
        for (int headDim : new int[] {64, 24}) {
            Paged b = new Paged(headDim);
            float scale = (float) (1.0 / Math.sqrt(headDim));
            for (int window : new int[] {0, 5}) {
                for (boolean sinks : new boolean[] {false, true}) {
                    MemorySegment out = floats((long) b.n * b.heads * headDim);
                    h.invokeExact(out, seg(b.q), b.qStride, b.qOffset, seg(b.keys), seg(b.values), seg(b.tables),
                            b.maxBlocks, seg(b.rowSeq), seg(b.rowPos), b.n, b.heads, b.kvHeads, headDim, b.blockSize,
                            scale, window, (MemorySegment) (sinks ? seg(b.sinks) : MemorySegment.NULL));
                    close(b.expected(scale, window, sinks ? b.sinks : null), get(out),
                            "attention head_dim=" + headDim + " window=" + window + " sinks=" + sinks);
                }
            }
        }
    }

    @Test
    void attentionSplit() throws Throwable {
        // the partials, combined in Java by the documented layout, give the CPU backend's attention
        Paged b = new Paged(32);
        int splits = 4, splitLen = 5, heads = b.heads, d = b.headDim;
        float scale = 0.2f;
        for (int window : new int[] {0, 7}) {
            MemorySegment ml = floats((long) b.n * heads * splits * 2);
            float[] acc = get(b.split(scale, window, splits, splitLen, ml));
            float[] m = get(ml);
            float[] out = new float[b.n * heads * d];
            for (int i = 0; i < b.n; i++) {
                int first = window > 0 ? Math.max(0, b.rowPos[i] - window + 1) : 0;
                int attended = b.rowPos[i] - first + 1;
                for (int h = 0; h < heads; h++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < splits; j++) {
                        int at = (i * heads + h) * splits + j;
                        boolean empty = j * splitLen >= attended;
                        if (empty) {
                            assertEquals(Float.NEGATIVE_INFINITY, m[2 * at], "empty split m");
                            assertEquals(0f, m[2 * at + 1], "empty split l");
                        } else {
                            max = Math.max(max, m[2 * at]);
                        }
                    }
                    float sum = 0f;
                    for (int j = 0; j < splits; j++) {
                        int at = (i * heads + h) * splits + j;
                        if (m[2 * at + 1] == 0f) continue;
                        float c = (float) Math.exp(m[2 * at] - max);
                        sum += m[2 * at + 1] * c;
                        for (int x = 0; x < d; x++) out[(i * heads + h) * d + x] += acc[at * d + x] * c;
                    }
                    for (int x = 0; x < d; x++) out[(i * heads + h) * d + x] /= sum;
                }
            }
            // splits × splitLen covers 20 positions: rows with more attended positions are cut, compare the others
            float[] expected = b.expected(scale, window, null);
            for (int i = 0; i < b.n; i++) {
                int first = window > 0 ? Math.max(0, b.rowPos[i] - window + 1) : 0;
                if (b.rowPos[i] - first + 1 > splits * splitLen) {
                    Arrays.fill(expected, i * heads * d, (i + 1) * heads * d, 0f);
                    Arrays.fill(out, i * heads * d, (i + 1) * heads * d, 0f);
                }
            }
            close(expected, out, "attention_split window=" + window);
        }
    }

    @Test
    void attentionReduce() throws Throwable {
        MethodHandle h = ref("attention_reduce", P, P, P, I, I, I, I, P);
        Paged b = new Paged(64);
        int splits = 5, splitLen = 5; // 25 positions: every row fits
        float scale = 0.125f;
        for (int window : new int[] {0, 6}) {
            for (boolean sinks : new boolean[] {false, true}) {
                MemorySegment ml = floats((long) b.n * b.heads * splits * 2);
                MemorySegment acc = b.split(scale, window, splits, splitLen, ml);
                MemorySegment out = floats((long) b.n * b.heads * b.headDim);
                h.invokeExact(out, acc, ml, b.n, b.heads, b.headDim, splits, (MemorySegment) (sinks ? seg(b.sinks) : MemorySegment.NULL));
                close(b.expected(scale, window, sinks ? b.sinks : null), get(out),
                        "attention split+reduce window=" + window + " sinks=" + sinks);
            }
        }
    }

    @Test
    void gelu() throws Throwable {
        MethodHandle h = ref("gelu", P, J);
        int n = 999;
        float[] x = rand(n);
        for (int i = 0; i < n; i++) x[i] *= 6f;
        MemorySegment xs = seg(x);
        h.invokeExact(xs, (long) n);
        ForwardMath.geluTanh(x, n);
        close(x, get(xs), "gelu");
    }

    @Test
    void swiglu() throws Throwable {
        MethodHandle h = ref("swiglu", P, P, P, J);
        int n = 777;
        float[] gate = rand(n), up = rand(n);
        for (int i = 0; i < n; i++) gate[i] *= 8f;
        MemorySegment out = floats(n);
        h.invokeExact(out, seg(gate), seg(up), (long) n);
        ForwardMath.siluMul(gate, up, n);
        close(gate, get(out), "swiglu");
    }

    @Test
    void toBf16() throws Throwable {
        MethodHandle h = ref("to_bf16", P, P, J);
        List<Float> values = new ArrayList<>();
        for (float v : rand(500)) values.add(v * 100f);
        // ties (the low 16 bits exactly 0x8000) to even: an even upper half stays, an odd one rounds up
        values.add(Float.intBitsToFloat(0x3F80_8000)); // 1 + 2^-8: tie, 0x3F80 even → 0x3F80
        values.add(Float.intBitsToFloat(0x3F81_8000)); // tie, 0x3F81 odd → 0x3F82
        values.add(Float.intBitsToFloat(0xBF81_8000)); // the same, negative
        values.add(Float.intBitsToFloat(0x3F80_8001)); // just above a tie → up
        values.add(Float.intBitsToFloat(0x3F80_7FFF)); // just below → down
        values.add(Float.intBitsToFloat(0x7F7F_FFFF)); // Float.MAX_VALUE rounds past the largest bf16 → +inf
        values.add(Float.intBitsToFloat(0x0000_8000)); // subnormal tie → 0
        values.add(Float.intBitsToFloat(0x0001_8000)); // subnormal tie, odd → 0x0002
        values.add(0f);
        values.add(-0f);
        values.add(Float.POSITIVE_INFINITY);
        values.add(Float.NEGATIVE_INFINITY);
        values.add(Float.NaN);
        values.add(Float.intBitsToFloat(0x7F80_0001)); // a signalling NaN whose payload is all in the low half
        values.add(Float.intBitsToFloat(0xFFFF_FFFF)); // a negative NaN that rounding would carry into the sign
        values.add(Float.intBitsToFloat(0x7FBF_FFFF));
        int n = values.size();
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = values.get(i);
        MemorySegment out = arena.allocate(ValueLayout.JAVA_SHORT, n);
        h.invokeExact(out, seg(x), (long) n);
        short[] actual = out.toArray(ValueLayout.JAVA_SHORT);
        for (int i = 0; i < n; i++) {
            short expected = WeightConversion.floatToBf16(x[i]);
            assertEquals(expected, actual[i], "to_bf16 of " + Integer.toHexString(Float.floatToRawIntBits(x[i])));
        }
        assertEquals((short) 0x3F80, actual[n - 16]);
        assertEquals((short) 0x3F82, actual[n - 15]);
        assertEquals((short) 0x7F80, actual[n - 11]);
        for (int i = n - 3; i < n; i++) {
            float widened = Float.intBitsToFloat((actual[i] & 0xFFFF) << 16);
            assertTrue(Float.isNaN(widened), "NaN stays NaN: " + Integer.toHexString(actual[i] & 0xFFFF));
        }
        assertEquals((short) 0xFFFF, actual[n - 2], "a NaN keeps its sign");
    }

    @Test
    void swigluOss() throws Throwable {
        MethodHandle h = ref("swiglu_oss", P, P, I, I, F);
        int n = 3, ff = 50;
        float limit = 7f;
        float[] gu = rand(n * 2 * ff);
        for (int i = 0; i < gu.length; i++) gu[i] *= 12f; // past the limit both ways
        MemorySegment out = floats((long) n * ff);
        h.invokeExact(out, seg(gu), n, ff, limit);
        float[] expected = new float[n * ff];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < ff; i++) { // GptOss.mixtureOfExperts (biases already added)
                float gate = Math.min(gu[r * 2 * ff + 2 * i], limit);
                float lin = Math.max(-limit, Math.min(limit, gu[r * 2 * ff + 2 * i + 1]));
                expected[r * ff + i] = gate * ForwardMath.sigmoid(1.702f * gate) * (lin + 1f);
            }
        }
        close(expected, get(out), "swiglu_oss");
    }

    @Test
    void moeTopk() throws Throwable {
        MethodHandle h = ref("moe_topk", P, P, P, I, I, I);
        Method topK = Class.forName("io.basalt.backend.cpu.model.GptOss")
                .getDeclaredMethod("topK", float[].class, int[].class, float[].class);
        topK.setAccessible(true);
        int n = 6, experts = 32, k = 4;
        float[] logits = new float[n * experts];
        for (int i = 0; i < logits.length; i++) logits[i] = random.nextInt(7) * 0.5f; // many ties
        MemorySegment ids = arena.allocate(I, (long) n * k), w = floats((long) n * k);
        h.invokeExact(ids, w, seg(logits), n, experts, k);
        int[] gotIds = ids.toArray(I);
        float[] gotW = get(w);
        for (int r = 0; r < n; r++) {
            int[] index = new int[k];
            float[] value = new float[k];
            topK.invoke(null, Arrays.copyOfRange(logits, r * experts, (r + 1) * experts), index, value);
            ForwardMath.softmax(value, k);
            assertArrayEquals(index, Arrays.copyOfRange(gotIds, r * k, (r + 1) * k), "row " + r + " experts");
            close(value, Arrays.copyOfRange(gotW, r * k, (r + 1) * k), "row " + r + " weights");
        }
    }

    @Test
    void mxfp4Matmul() throws Throwable {
        MethodHandle h = ref("mxfp4_matmul", P, P, P, P, P, I, P, I, I, I, I);
        int experts = 5, rows = 13, cols = 96, n = 3, k = 2, nb = cols / 32;
        byte[] blocks = new byte[experts * rows * nb * 16];
        byte[] scales = new byte[experts * rows * nb];
        random.nextBytes(blocks);
        for (int i = 0; i < scales.length; i++) scales[i] = (byte) (120 + random.nextInt(12));
        MemorySegment bs = arena.allocateFrom(ValueLayout.JAVA_BYTE, blocks);
        MemorySegment ss = arena.allocateFrom(ValueLayout.JAVA_BYTE, scales);
        Mxfp4Experts cpu = new Mxfp4Experts(bs, ss, experts, rows, cols);
        int[] ids = new int[n * k];
        for (int i = 0; i < ids.length; i++) ids[i] = random.nextInt(experts);
        float[] bias = rand(experts * rows);
        for (int perSlot = 0; perSlot <= 1; perSlot++) {
            for (boolean withBias : new boolean[] {false, true}) {
                float[] x = rand((perSlot == 1 ? n * k : n) * cols);
                MemorySegment out = floats((long) n * k * rows);
                h.invokeExact(out, bs, ss, (MemorySegment) (withBias ? seg(bias) : MemorySegment.NULL), seg(x), perSlot, seg(ids), n, k,
                        rows, cols);
                float[] expected = new float[n * k * rows];
                for (int t = 0; t < n * k; t++) {
                    int xr = perSlot == 1 ? t : t / k;
                    float[] y = new float[rows];
                    cpu.matvec(ids[t], Arrays.copyOfRange(x, xr * cols, (xr + 1) * cols), y);
                    for (int r = 0; r < rows; r++) expected[t * rows + r] = y[r] + (withBias ? bias[ids[t] * rows + r] : 0f);
                }
                close(expected, get(out), "mxfp4 x_per_slot=" + perSlot + " bias=" + withBias);
            }
        }
    }

    @Test
    void moeCombine() throws Throwable {
        MethodHandle h = ref("moe_combine", P, P, P, I, I, I);
        int n = 4, k = 3, dim = 40;
        float[] y = rand(n * k * dim), w = rand(n * k);
        MemorySegment out = seg(rand(n * dim)); // overwritten
        h.invokeExact(out, seg(y), seg(w), n, k, dim);
        float[] expected = new float[n * dim];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) { // GptOss.mixtureOfExperts: Σ_j w_j · expert_j(x)
                for (int d = 0; d < dim; d++) expected[i * dim + d] += w[i * k + j] * y[(i * k + j) * dim + d];
            }
        }
        close(expected, get(out), "moe_combine");
    }

    @Test
    void gather() throws Throwable {
        MethodHandle h = ref("gather", P, P, P, I, I);
        int rowsIn = 10, dim = 33;
        int[] rows = {7, 0, 9, 7};
        float[] x = rand(rowsIn * dim);
        MemorySegment out = floats((long) rows.length * dim);
        h.invokeExact(out, seg(x), seg(rows), rows.length, dim);
        float[] expected = new float[rows.length * dim];
        for (int i = 0; i < rows.length; i++) System.arraycopy(x, rows[i] * dim, expected, i * dim, dim);
        assertArrayEquals(expected, get(out));
    }

    @Test
    void argmax() throws Throwable {
        MethodHandle h = ref("argmax", P, P, I, I);
        int n = 5, vocab = 300;
        float[] logits = new float[n * vocab];
        for (int i = 0; i < logits.length; i++) logits[i] = random.nextInt(50); // ties
        MemorySegment out = arena.allocate(I, n);
        h.invokeExact(out, seg(logits), n, vocab);
        for (int r = 0; r < n; r++) {
            int best = 0; // greedy: the lowest id among the maxima
            for (int v = 1; v < vocab; v++) if (logits[r * vocab + v] > logits[r * vocab + best]) best = v;
            assertEquals(best, out.getAtIndex(I, r), "row " + r);
        }
    }

    @Test
    void readProbe() throws Throwable {
        MethodHandle h = ref("read_probe", P, P, J);
        long count = 16L * 1024 * 256 * 2 + 16 * 77 + 9; // two grid strides, a partial third, a tail not read
        MemorySegment x = arena.allocate(count, 16);
        for (long i = 0; i < count; i++) x.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
        MemorySegment out = arena.allocate(I, 1024);
        h.invokeExact(out, x, count);
        int[] expected = new int[1024];
        long chunks = count / 16, threads = 1024 * 256;
        for (long c = 0; c < chunks; c++) {
            int block = (int) ((c % threads) / 256);
            for (int w = 0; w < 4; w++) expected[block] ^= x.get(ValueLayout.JAVA_INT_UNALIGNED, c * 16 + w * 4);
        }
        assertArrayEquals(expected, out.toArray(I));
    }
}
