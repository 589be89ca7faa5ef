package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * A float weight (fp32, bf16 or f16 storage) repacked once at load into panels of 16 output rows:
 * panel p holds W[16p .. 16p+16)[k] for every k as 16 consecutive elements, [panels][cols][16].
 * One layout serves decode and batches: the kernel broadcasts x[t][k] and multiplies it with the
 * panel's 16 weights of column k (an outer product), so no horizontal reduction is ever needed, each
 * weight is read from memory once per call, and in a batch each weight vector feeds up to 6 token
 * rows from registers (6×16 tile, 12 accumulators: the register-tiled micro-kernel of JAVA.md §2.4).
 * Where 512-bit vectors are preferred, {@link PackedKernels512} runs instead (one vector per column;
 * 6 rows × 2 panels per call). bf16/f16 panels are widened to fp32 one k-block at a time into a per-thread scratch that stays in L1.
 * bf16 is laid out so that widening never needs a cross-lane shuffle (see {@link #index}): one
 * integer load gives, through a shift (the low halves) and a mask (the high halves), two fp32 vectors.
 */
public final class PackedMatrix implements WeightMatrix {
    static final int PANEL = 16;
    /** Columns per k-block: a 16 KB fp32 weight block plus 6 activation slices fit in L1 (32 KB). */
    static final int KC = 256;
    // 256-bit: intrinsified on AVX2 and AVX-512 alike (JAVA.md §1.4); a static final so C2 sees a constant.
    private static final jdk.incubator.vector.VectorSpecies<Float> FS = FloatVector.SPECIES_256;

    private final MemorySegment packed;
    private final DType dtype;
    private final int rows;
    private final int cols;
    private final int panels;
    private final int elemBytes;
    /** 512-bit kernels (and their bf16 order) where the machine's preferred vectors are that wide. */
    private final boolean wide;
    /** Columns per panel as stored: cols, or cols + 1 for 512-bit bf16, which stores columns in pairs. */
    private final int stride;

    /** Whether new matrices use the 512-bit kernels (and their layout). */
    private static final boolean WIDE = PackedKernels512.ENABLED;

    /** The width of the vectors the kernels run on: 512 where the machine prefers it, else 256. */
    public static int vectorBits() { return WIDE ? 512 : 256; }

    /** Names the packed layout (it differs by vector width), for caches of packed weights. */
    public static String layout() { return "panel16-" + (WIDE ? "v512" : "v256"); }

    private PackedMatrix(MemorySegment packed, DType dtype, int rows, int cols, boolean wide) {
        this.wide = wide;
        this.packed = packed;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.panels = (rows + PANEL - 1) / PANEL;
        this.elemBytes = (int) dtype.byteSize(1);
        this.stride = stride(dtype, cols, wide);
    }

    private static int stride(DType dtype, int cols, boolean wide) {
        return dtype == DType.BF16 && wide ? cols + (cols & 1) : cols;
    }

    /** Whether a dtype can be packed (plain floats; block-quantized weights keep their row blocks). */
    public static boolean supports(DType dtype) {
        return dtype == DType.F32 || dtype == DType.BF16 || dtype == DType.F16;
    }

    /** Packs a [rows, cols] matrix stored row by row (outputs × inputs); the copy is freed by the GC. */
    public static PackedMatrix fromRowMajor(MemorySegment src, DType dtype, int rows, int cols) {
        return fromRowMajor(src, dtype, rows, cols, Arena.ofAuto());
    }

    /** Packs a [rows, cols] matrix stored row by row into memory of {@code arena} (shared: workers read it). */
    public static PackedMatrix fromRowMajor(MemorySegment src, DType dtype, int rows, int cols, Arena arena) {
        return fromRowMajor(src, dtype, rows, cols, arena, WIDE);
    }

    static PackedMatrix fromRowMajor(MemorySegment src, DType dtype, int rows, int cols, Arena arena, boolean wide) {
        PackedMatrix m = allocate(src, dtype, rows, cols, arena, wide);
        int eb = m.elemBytes;
        long rowBytes = (long) cols * eb;
        Parallel.forRange(m.panels, rowBytes * PANEL, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                long base = (long) p * m.stride * PANEL * eb;
                for (int j = 0; j < PANEL && p * PANEL + j < rows; j++) {
                    long s = (p * PANEL + j) * rowBytes;
                    if (eb == 4) {
                        long d = base + 4L * j;
                        for (int k = 0; k < cols; k++) m.packed.set(I32_LE, d + 64L * k, src.get(I32_LE, s + 4L * k));
                    } else {
                        for (int k = 0; k < cols; k++) m.packed.set(I16_LE, base + 2 * m.index(j, k), src.get(I16_LE, s + 2L * k));
                    }
                }
            }
        });
        return m;
    }

    /** Packs a matrix stored input-major ([in, out], GPT-2 Conv1D), used as y = x·W; freed by the GC. */
    public static PackedMatrix fromColumnMajor(MemorySegment src, DType dtype, int in, int out) {
        return fromColumnMajor(src, dtype, in, out, Arena.ofAuto());
    }

    /** Packs a matrix stored input-major ([in, out]) into memory of {@code arena}. */
    public static PackedMatrix fromColumnMajor(MemorySegment src, DType dtype, int in, int out, Arena arena) {
        return fromColumnMajor(src, dtype, in, out, arena, WIDE);
    }

    static PackedMatrix fromColumnMajor(MemorySegment src, DType dtype, int in, int out, Arena arena, boolean wide) {
        PackedMatrix m = allocate(src, dtype, out, in, arena, wide);
        int eb = m.elemBytes;
        Parallel.forRange(m.panels, (long) in * PANEL * eb, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int width = Math.min(PANEL, out - p * PANEL);
                for (int k = 0; k < in; k++) {
                    long s = ((long) k * out + (long) p * PANEL) * eb;
                    long base = (long) p * m.stride * PANEL * eb;
                    if (dtype == DType.BF16) {
                        for (int j = 0; j < width; j++) m.packed.set(I16_LE, base + 2 * m.index(j, k), src.get(I16_LE, s + 2L * j));
                    } else {
                        MemorySegment.copy(src, s, m.packed, base + (long) k * PANEL * eb, (long) width * eb);
                    }
                }
            }
        });
        return m;
    }

    /**
     * Element index of (row j, column k) within its panel: k·16 + j, except for bf16, whose 256-bit
     * kernels interleave the rows of a column (0, 8, 1, 9, …: a shift and a mask widen them), and whose
     * 512-bit kernels store columns in pairs, row j of columns k and k+1 side by side (one 512-bit load
     * widens to both columns with a shift and a mask).
     */
    private long index(int j, int k) {
        if (dtype != DType.BF16) return (long) k * PANEL + j;
        if (!wide) return (long) k * PANEL + (j < 8 ? 2 * j : 2 * (j - 8) + 1);
        return (long) (k >> 1) * 2 * PANEL + 2 * j + (k & 1);
    }

    /** A matrix over already packed bytes (e.g. mapped from a {@link PackedWeightCache} file). */
    static PackedMatrix ofPacked(MemorySegment packed, DType dtype, int rows, int cols) {
        if (!supports(dtype) || packed.byteSize() != packedBytes(dtype, rows, cols)) {
            throw new IllegalArgumentException("packed " + rows + "x" + cols + " " + dtype + " needs "
                    + packedBytes(dtype, rows, cols) + " bytes, got " + packed.byteSize());
        }
        return new PackedMatrix(packed, dtype, rows, cols, WIDE);
    }

    /** Bytes a packed [rows, cols] matrix takes (in this machine's layout): rows rounded up to whole panels. */
    static long packedBytes(DType dtype, int rows, int cols) { return packedBytes(dtype, rows, cols, WIDE); }

    private static long packedBytes(DType dtype, int rows, int cols, boolean wide) {
        return (long) ((rows + PANEL - 1) / PANEL) * PANEL * stride(dtype, cols, wide) * dtype.byteSize(1);
    }

    MemorySegment packedData() { return packed; }

    private static PackedMatrix allocate(MemorySegment src, DType dtype, int rows, int cols, Arena arena, boolean wide) {
        if (!supports(dtype)) throw new IllegalArgumentException("cannot pack " + dtype + " weights");
        long expected = (long) rows * cols * dtype.byteSize(1);
        if (src.byteSize() != expected) {
            throw new IllegalArgumentException("expected " + expected + " bytes for " + rows + "x" + cols + " " + dtype
                    + ", got " + src.byteSize());
        }
        // Zero-filled, so the padding rows of a last partial panel contribute nothing.
        MemorySegment packed = arena.allocate(packedBytes(dtype, rows, cols, wide), 64);
        return new PackedMatrix(packed, dtype, rows, cols, wide);
    }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    public DType dtype() { return dtype; }

    /** Bytes of packed weights (what one matmul call streams from memory). */
    public long byteSize() { return packed.byteSize(); }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[KC * PANEL]);
    private static final ThreadLocal<float[]> SCRATCH2 = ThreadLocal.withInitial(() -> new float[KC * PANEL]);

    @Override
    public void matmul(float[][] x, float[][] y) {
        int batch = x.length;
        if (wide && batch > 1) {
            matmulWide(x, y);
            return;
        }
        if (batch == 1 && dtype != DType.F16) {
            gemv(x[0], y[0]);
            return;
        }
        // Token rows go in groups of 6 (the full micro-kernel), then one of 4 and/or 2 for the rest;
        // each group's rows are interleaved as [k][group] so its kernel broadcasts from one array
        // walked in order and every bounds check hoists out of the loop. A single row stays as is.
        int full = batch / 6, rest = batch % 6;
        int four = rest >= 4 ? 1 : 0, two = (rest - 4 * four) >= 2 ? 1 : 0;
        int single = rest - 4 * four - 2 * two;
        float[] x6 = full > 0 ? interleave(x, 0, full * 6, 6) : null;
        float[] x4 = four > 0 ? interleave(x, full * 6, 4, 4) : null;
        float[] x2 = two > 0 ? interleave(x, full * 6 + 4 * four, 2, 2) : null;
        int t1 = batch - single;
        long panelBytes = (long) stride * PANEL * elemBytes;
        Parallel.RangeBody body = (p0, p1) -> {
            float[] w = SCRATCH.get();
            float[] acc = ACC.get(); // a tile's accumulators spill here before merging into y
            for (int p = p0; p < p1; p++) {
                int col = p * PANEL;
                int valid = Math.min(PANEL, rows - col);
                for (int k0 = 0; k0 < cols; k0 += KC) {
                    int kc = Math.min(KC, cols - k0);
                    boolean first = k0 == 0;
                    load(p, k0, kc, w);
                    if (wide) { // one f16 row (batches took matmulWide)
                        PackedKernels512.tile1(w, kc, x[0], k0, y[0], col, valid, first);
                        continue;
                    }
                    for (int g = 0; g < full; g++) tile6(w, kc, x6, (g * cols + k0) * 6, y, g * 6, col, valid, first, acc);
                    if (four > 0) tile4(w, kc, x4, k0 * 4, y, full * 6, col, valid, first, acc);
                    if (two > 0) tile2(w, kc, x2, k0 * 2, y, full * 6 + 4 * four, col, valid, first, acc);
                    if (single > 0) tile1(w, kc, x[t1], k0, y[t1], col, valid, first);
                }
            }
        };
        long cost = panelBytes + (long) cols * PANEL * 2 * batch;
        if (batch == 1) Parallel.forRangeFine(panels, cost, body); // decode: panels share nothing
        else Parallel.forRange(panels, cost, body);
    }

    /**
     * Decode (fp32, bf16): whole panels streamed straight from the packed weights, no copy and no
     * k-blocks (x fits in L1), four panels at a time where four full panels remain (one broadcast of x
     * feeds all four), so parallel chunks are whole groups of four.
     */
    private void gemv(float[] x, float[] y) {
        long panelBytes = (long) stride * PANEL * elemBytes;
        int groups = (panels + 3) / 4, fullPanels = rows / PANEL;
        boolean bf16 = dtype == DType.BF16;
        Parallel.forRangeFine(groups, 4 * panelBytes, (g0, g1) -> {
            for (int g = g0; g < g1; g++) {
                int p = 4 * g;
                long off = p * panelBytes;
                if (p + 4 <= fullPanels) {
                    if (wide) {
                        if (bf16) PackedKernels512.panels4Bf16(packed, off, panelBytes, cols, x, y, p * PANEL);
                        else PackedKernels512.panels4(packed, off, panelBytes, cols, x, y, p * PANEL);
                    } else {
                        if (bf16) panels4Bf16(packed, off, panelBytes, cols, x, y, p * PANEL);
                        else panels4(packed, off, panelBytes, cols, x, y, p * PANEL);
                    }
                    continue;
                }
                for (int end = Math.min(panels, p + 4); p < end; p++, off += panelBytes) {
                    int col = p * PANEL, valid = Math.min(PANEL, rows - col);
                    if (wide) {
                        if (bf16) PackedKernels512.tile1Bf16(packed, off, cols, x, 0, y, col, valid, true);
                        else PackedKernels512.tile1(packed, off, cols, x, 0, y, col, valid, true);
                    } else {
                        if (bf16) tile1Bf16(packed, off, cols, x, 0, y, col, valid, true);
                        else tile1(packed, off, cols, x, 0, y, col, valid, true);
                    }
                }
            }
        });
    }

    /** {@link PackedKernels512#panels4} with 256-bit vectors: a panel column is two vectors (rows 0–7, 8–15). */
    private static void panels4(MemorySegment w, long off, long pb, int kc, float[] x, float[] y, int col) {
        var s = FS;
        FloatVector a0 = FloatVector.zero(s), a1 = FloatVector.zero(s), b0 = FloatVector.zero(s), b1 = FloatVector.zero(s);
        FloatVector c0 = FloatVector.zero(s), c1 = FloatVector.zero(s), d0 = FloatVector.zero(s), d1 = FloatVector.zero(s);
        for (int k = 0; k < kc; k++) {
            long o = off + 64L * k;
            FloatVector e = FloatVector.broadcast(s, x[k]);
            a0 = FloatVector.fromMemorySegment(s, w, o, LE).fma(e, a0);
            a1 = FloatVector.fromMemorySegment(s, w, o + 32, LE).fma(e, a1);
            b0 = FloatVector.fromMemorySegment(s, w, o + pb, LE).fma(e, b0);
            b1 = FloatVector.fromMemorySegment(s, w, o + pb + 32, LE).fma(e, b1);
            c0 = FloatVector.fromMemorySegment(s, w, o + 2 * pb, LE).fma(e, c0);
            c1 = FloatVector.fromMemorySegment(s, w, o + 2 * pb + 32, LE).fma(e, c1);
            d0 = FloatVector.fromMemorySegment(s, w, o + 3 * pb, LE).fma(e, d0);
            d1 = FloatVector.fromMemorySegment(s, w, o + 3 * pb + 32, LE).fma(e, d1);
        }
        a0.intoArray(y, col); a1.intoArray(y, col + 8);
        b0.intoArray(y, col + PANEL); b1.intoArray(y, col + PANEL + 8);
        c0.intoArray(y, col + 2 * PANEL); c1.intoArray(y, col + 2 * PANEL + 8);
        d0.intoArray(y, col + 3 * PANEL); d1.intoArray(y, col + 3 * PANEL + 8);
    }

    /** {@link #panels4} for 256-bit bf16 panels: int j of a column holds rows j (low half) and j + 8 (high half). */
    private static void panels4Bf16(MemorySegment w, long off, long pb, int kc, float[] x, float[] y, int col) {
        var s = FS;
        FloatVector a0 = FloatVector.zero(s), a1 = FloatVector.zero(s), b0 = FloatVector.zero(s), b1 = FloatVector.zero(s);
        FloatVector c0 = FloatVector.zero(s), c1 = FloatVector.zero(s), d0 = FloatVector.zero(s), d1 = FloatVector.zero(s);
        for (int k = 0; k < kc; k++) {
            long o = off + 32L * k;
            FloatVector e = FloatVector.broadcast(s, x[k]);
            IntVector v = IntVector.fromMemorySegment(I256, w, o, LE);
            a0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(e, a0);
            a1 = ((FloatVector) v.and(0xFFFF0000).reinterpretAsFloats()).fma(e, a1);
            v = IntVector.fromMemorySegment(I256, w, o + pb, LE);
            b0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(e, b0);
            b1 = ((FloatVector) v.and(0xFFFF0000).reinterpretAsFloats()).fma(e, b1);
            v = IntVector.fromMemorySegment(I256, w, o + 2 * pb, LE);
            c0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(e, c0);
            c1 = ((FloatVector) v.and(0xFFFF0000).reinterpretAsFloats()).fma(e, c1);
            v = IntVector.fromMemorySegment(I256, w, o + 3 * pb, LE);
            d0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(e, d0);
            d1 = ((FloatVector) v.and(0xFFFF0000).reinterpretAsFloats()).fma(e, d1);
        }
        a0.intoArray(y, col); a1.intoArray(y, col + 8);
        b0.intoArray(y, col + PANEL); b1.intoArray(y, col + PANEL + 8);
        c0.intoArray(y, col + 2 * PANEL); c1.intoArray(y, col + 2 * PANEL + 8);
        d0.intoArray(y, col + 3 * PANEL); d1.intoArray(y, col + 3 * PANEL + 8);
    }

    /** Batches on 512-bit machines: {@link #panelMatmul} over this matrix's panels, copied or widened. */
    private void matmulWide(float[][] x, float[][] y) {
        boolean large = x.length >= 32;
        // fp32 batches under 32 rows: the 8-row tiles read the panels in place (no copy); gpt2 C=16
        // 275–329 → 363–381 tok/s, alternated. Prefill-sized batches keep the copies.
        MemorySegment inPlace = dtype == DType.F32 && !large ? packed : null;
        panelMatmul(x, y, rows, cols, (p, k0, kc, w) -> load(p, k0, kc, w, large), inPlace, stride);
    }

    /** Fills w with columns [k0, k0 + kc) of panel p (rows 16p … 16p + 15), 16 floats per column. */
    interface PanelLoader {
        void load(int p, int k0, int kc, float[] w);
    }

    /**
     * y = x · Wᵀ for a batch on a 512-bit machine, W given panel by panel: per pair of panels and
     * k-block the loader fills two L1-sized blocks once, then every token row uses them, 8 rows at a
     * time (then 4, then one), each broadcast feeding two FMAs; partial sums of later k-blocks are
     * added into y with vector adds. k-blocks are multiples of 32 columns, so block-quantized rows
     * dequantize whole blocks.
     */
    static void panelMatmul(float[][] x, float[][] y, int rows, int cols, PanelLoader loader) {
        panelMatmul(x, y, rows, cols, loader, null, 0);
    }

    /**
     * As above; {@code inPlace}, when not null, holds the same panels as fp32 (panel p's column k at
     * float (p · stride + k) · 16), which the 8-row tiles read directly instead of the loader's copy.
     */
    static void panelMatmul(float[][] x, float[][] y, int rows, int cols, PanelLoader loader, MemorySegment inPlace, int stride) {
        int batch = x.length;
        int eights = batch / 8, rest = batch % 8;
        int fours = rest / 4 + (rest % 4 >= 2 ? 1 : 0); // a group of 2 or 3 rows runs as 4 with zero rows
        int t4 = eights * 8, t1 = rest % 4 == 1 ? batch - 1 : -1;
        int end4 = t1 >= 0 ? t1 : batch; // the 4-row tiles cover rows [t4, end4)
        float[] x8 = eights > 0 ? interleave(x, cols, 0, eights * 8, 8, eights * 8) : null;
        float[] x4 = fours > 0 ? interleave(x, cols, t4, end4 - t4, 4, fours * 4) : null;
        int panels = (rows + PANEL - 1) / PANEL;
        int pairs = (panels + 1) / 2;
        // Large batches: k-blocks outermost, so the activations' k-slice (every row of it) stays in L2
        // while this thread's panel pairs pass through L1, instead of all of x streaming by once per
        // pair. Small ones (x fits in L2 anyway): pairs outermost, so each pair's weights are read in
        // order and its partial sums stay in cache (row-major Q8_0 rows read a k-block at a time
        // were latency-bound: 1B Q8_0 C=16 32 → 41 tok/s).
        boolean pairsOuter = 4L * batch * cols <= 512 * 1024;
        Parallel.forRange(pairs, 2L * PANEL * cols * 4 + (long) cols * PANEL * 4 * batch, (q0, q1) -> {
            float[] w = SCRATCH.get(), w2 = SCRATCH2.get(), acc = ACC16.get();
            if (pairsOuter) {
                for (int q = q0; q < q1; q++) {
                    for (int k0 = 0; k0 < cols; k0 += KC) {
                        pairBlock(x, y, rows, cols, loader, q, k0, x8, x4, eights, fours, t4, end4, t1, w, w2, acc, inPlace, stride);
                    }
                }
            } else {
                for (int k0 = 0; k0 < cols; k0 += KC) {
                    for (int q = q0; q < q1; q++) {
                        pairBlock(x, y, rows, cols, loader, q, k0, x8, x4, eights, fours, t4, end4, t1, w, w2, acc, inPlace, stride);
                    }
                }
            }
        });
    }

    /** One k-block of one pair of panels for every token row: load both blocks, then the tiles. */
    private static void pairBlock(float[][] x, float[][] y, int rows, int cols, PanelLoader loader, int q, int k0,
                                  float[] x8, float[] x4, int eights, int fours, int t4, int end4, int t1,
                                  float[] w, float[] w2, float[] acc, MemorySegment inPlace, int stride) {
        int kc = Math.min(KC, cols - k0);
        boolean first = k0 == 0;
        int p = 2 * q, col = p * PANEL;
        int valid = Math.min(PANEL, rows - col), valid2 = Math.max(0, Math.min(PANEL, rows - col - PANEL));
        boolean direct = inPlace != null && valid2 > 0; // a lone last panel takes the copy, which pads its partner
        if (direct) {
            long off = ((long) p * stride + k0) * PANEL * 4, off2 = off + (long) stride * PANEL * 4;
            for (int g = 0; g < eights; g++) {
                PackedKernels512.rows8x2(inPlace, off, off2, kc, x8, (g * cols + k0) * 8, y, g * 8, 8, col, valid, valid2, first, acc);
            }
            if (fours == 0 && t1 < 0) return;
        }
        loader.load(p, k0, kc, w);
        if (valid2 > 0) loader.load(p + 1, k0, kc, w2); // a lone last panel computes its partner's zeros
        else java.util.Arrays.fill(w2, 0, kc * PANEL, 0f);
        for (int g = 0; !direct && g < eights; g++) {
            PackedKernels512.rows8x2(w, w2, kc, x8, (g * cols + k0) * 8, y, g * 8, 8, col, valid, valid2, first, acc);
        }
        for (int g = 0; g < fours; g++) {
            int t = t4 + 4 * g, n = Math.min(4, end4 - t);
            PackedKernels512.rows4x2(w, w2, kc, x4, (g * cols + k0) * 4, y, t, n, col, valid, valid2, first, acc);
        }
        if (t1 >= 0) {
            PackedKernels512.tile1(w, kc, x[t1], k0, y[t1], col, valid, first);
            if (valid2 > 0) PackedKernels512.tile1(w2, kc, x[t1], k0, y[t1], col + PANEL, valid2, first);
        }
    }

    private static final ThreadLocal<float[]> ACC16 = ThreadLocal.withInitial(() -> new float[16 * PANEL]);

    /**
     * Rows [from, from + count) of x as groups of {@code group} rows, each laid out [k][group], with room
     * for {@code slots} rows (a last group short of rows keeps zeros in their place).
     */
    private static float[] interleave(float[][] x, int cols, int from, int count, int group, int slots) {
        float[] xp = new float[slots * cols];
        // Group by group on both cores: done serially it was ~5 % of a gpt2 512-token prefill with the
        // second core idle.
        Parallel.forRange((count + group - 1) / group, (long) group * cols, (g0, g1) -> {
            for (int i = g0 * group, end = Math.min(count, g1 * group); i < end; i++) {
                float[] row = x[from + i];
                int base = (i / group) * cols * group + i % group;
                for (int k = 0; k < cols; k++) xp[base + group * k] = row[k];
            }
        });
        return xp;
    }

    /** Rows [from, from + count) of x as whole groups of {@code group} rows. */
    private float[] interleave(float[][] x, int from, int count, int group) {
        return interleave(x, cols, from, count, group, count);
    }

    /** Copies (fp32) or widens (bf16, f16) panel p's columns [k0, k0 + kc) into w, 16 floats per column. */
    private void load(int p, int k0, int kc, float[] w) { load(p, k0, kc, w, false); }

    /** As above; {@code large}: a batch of 32 rows or more (bf16 on 512-bit machines widens via an array). */
    private void load(int p, int k0, int kc, float[] w, boolean large) {
        int n = kc * PANEL;
        long off = ((long) p * stride + k0) * PANEL * elemBytes;
        switch (dtype) {
            case F32 -> MemorySegment.copy(packed, F32_LE, off, w, 0, n);
            case BF16 -> {
                if (!wide) widenBf16(packed, off, w, n);
                else if (large) PackedKernels512.widenBf16ViaArray(packed, off, w, n);
                else PackedKernels512.widenBf16(packed, off, w, n);
            }
            case F16 -> widenF16(packed, off, w, n);
            default -> throw new IllegalStateException(dtype.name());
        }
    }

    private static void widenBf16(MemorySegment src, long off, float[] w, int n) {
        for (int i = 0; i < n; i += PANEL) {
            IntVector v = IntVector.fromMemorySegment(I256, src, off + 2L * i, LE);
            v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(w, i);
            v.and(0xFFFF0000).reinterpretAsFloats().intoArray(w, i + 8);
        }
    }

    /** Scalar, but auto-vectorised with F16C (JDK 25 has no vector fp16 conversion; JAVA.md §1.4). */
    private static void widenF16(MemorySegment src, long off, float[] w, int n) {
        for (int i = 0; i < n; i++) w[i] = Float.float16ToFloat(src.get(I16_LE, off + 2L * i));
    }

    /** y[t..t+6)[col..col+16) (+)= six interleaved activation rows (xp from xo, 6 per k) · panel block w. */
    private static void tile6(float[] w, int kc, float[] xp, int xo, float[][] y, int t, int col, int valid, boolean first, float[] acc) {
        var s = FS;
        FloatVector a00 = FloatVector.zero(s), a01 = FloatVector.zero(s), a10 = FloatVector.zero(s), a11 = FloatVector.zero(s);
        FloatVector a20 = FloatVector.zero(s), a21 = FloatVector.zero(s), a30 = FloatVector.zero(s), a31 = FloatVector.zero(s);
        FloatVector a40 = FloatVector.zero(s), a41 = FloatVector.zero(s), a50 = FloatVector.zero(s), a51 = FloatVector.zero(s);
        for (int k = 0; k < kc; k++) {
            FloatVector w0 = FloatVector.fromArray(s, w, k * PANEL);
            FloatVector w1 = FloatVector.fromArray(s, w, k * PANEL + 8);
            int xk = xo + 6 * k;
            FloatVector b = FloatVector.broadcast(s, xp[xk]);
            a00 = w0.fma(b, a00); a01 = w1.fma(b, a01);
            b = FloatVector.broadcast(s, xp[xk + 1]);
            a10 = w0.fma(b, a10); a11 = w1.fma(b, a11);
            b = FloatVector.broadcast(s, xp[xk + 2]);
            a20 = w0.fma(b, a20); a21 = w1.fma(b, a21);
            b = FloatVector.broadcast(s, xp[xk + 3]);
            a30 = w0.fma(b, a30); a31 = w1.fma(b, a31);
            b = FloatVector.broadcast(s, xp[xk + 4]);
            a40 = w0.fma(b, a40); a41 = w1.fma(b, a41);
            b = FloatVector.broadcast(s, xp[xk + 5]);
            a50 = w0.fma(b, a50); a51 = w1.fma(b, a51);
        }
        // Spill the tile, then merge: six inlined merges would exceed C2's inlining budget and box vectors.
        a00.intoArray(acc, 0); a01.intoArray(acc, 8); a10.intoArray(acc, 16); a11.intoArray(acc, 24);
        a20.intoArray(acc, 32); a21.intoArray(acc, 40); a30.intoArray(acc, 48); a31.intoArray(acc, 56);
        a40.intoArray(acc, 64); a41.intoArray(acc, 72); a50.intoArray(acc, 80); a51.intoArray(acc, 88);
        for (int i = 0; i < 6; i++) merge(acc, i * PANEL, y[t + i], col, valid, first);
    }

    private static final ThreadLocal<float[]> ACC = ThreadLocal.withInitial(() -> new float[6 * PANEL]);

    /** Stores (first k-block) or adds 16 spilled sums into y; takes arrays, not vectors, so C2 need not inline it. */
    static void merge(float[] acc, int from, float[] y, int col, int valid, boolean first) {
        if (first) System.arraycopy(acc, from, y, col, valid);
        else if (valid == PANEL && WIDE) {
            FloatVector.fromArray(FloatVector.SPECIES_512, acc, from).add(FloatVector.fromArray(FloatVector.SPECIES_512, y, col))
                    .intoArray(y, col);
        } else for (int j = 0; j < valid; j++) y[col + j] += acc[from + j];
    }

    private static void tile4(float[] w, int kc, float[] xp, int xo, float[][] y, int t, int col, int valid, boolean first, float[] acc) {
        var s = FS;
        FloatVector a00 = FloatVector.zero(s), a01 = FloatVector.zero(s), a10 = FloatVector.zero(s), a11 = FloatVector.zero(s);
        FloatVector a20 = FloatVector.zero(s), a21 = FloatVector.zero(s), a30 = FloatVector.zero(s), a31 = FloatVector.zero(s);
        for (int k = 0; k < kc; k++) {
            FloatVector w0 = FloatVector.fromArray(s, w, k * PANEL);
            FloatVector w1 = FloatVector.fromArray(s, w, k * PANEL + 8);
            int xk = xo + 4 * k;
            FloatVector b = FloatVector.broadcast(s, xp[xk]);
            a00 = w0.fma(b, a00); a01 = w1.fma(b, a01);
            b = FloatVector.broadcast(s, xp[xk + 1]);
            a10 = w0.fma(b, a10); a11 = w1.fma(b, a11);
            b = FloatVector.broadcast(s, xp[xk + 2]);
            a20 = w0.fma(b, a20); a21 = w1.fma(b, a21);
            b = FloatVector.broadcast(s, xp[xk + 3]);
            a30 = w0.fma(b, a30); a31 = w1.fma(b, a31);
        }
        a00.intoArray(acc, 0); a01.intoArray(acc, 8); a10.intoArray(acc, 16); a11.intoArray(acc, 24);
        a20.intoArray(acc, 32); a21.intoArray(acc, 40); a30.intoArray(acc, 48); a31.intoArray(acc, 56);
        for (int i = 0; i < 4; i++) merge(acc, i * PANEL, y[t + i], col, valid, first);
    }

    /** Two rows; k unrolled by two so 8 independent accumulators hide the FMA latency. */
    private static void tile2(float[] w, int kc, float[] xp, int xo, float[][] y, int t, int col, int valid, boolean first, float[] acc) {
        var s = FS;
        FloatVector a00 = FloatVector.zero(s), a01 = FloatVector.zero(s), a10 = FloatVector.zero(s), a11 = FloatVector.zero(s);
        FloatVector c00 = FloatVector.zero(s), c01 = FloatVector.zero(s), c10 = FloatVector.zero(s), c11 = FloatVector.zero(s);
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            FloatVector w0 = FloatVector.fromArray(s, w, k * PANEL);
            FloatVector w1 = FloatVector.fromArray(s, w, k * PANEL + 8);
            int xk = xo + 2 * k;
            FloatVector b = FloatVector.broadcast(s, xp[xk]);
            a00 = w0.fma(b, a00); a01 = w1.fma(b, a01);
            b = FloatVector.broadcast(s, xp[xk + 1]);
            a10 = w0.fma(b, a10); a11 = w1.fma(b, a11);
            w0 = FloatVector.fromArray(s, w, k * PANEL + 16);
            w1 = FloatVector.fromArray(s, w, k * PANEL + 24);
            b = FloatVector.broadcast(s, xp[xk + 2]);
            c00 = w0.fma(b, c00); c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(s, xp[xk + 3]);
            c10 = w0.fma(b, c10); c11 = w1.fma(b, c11);
        }
        for (; k < kc; k++) {
            FloatVector w0 = FloatVector.fromArray(s, w, k * PANEL);
            FloatVector w1 = FloatVector.fromArray(s, w, k * PANEL + 8);
            int xk = xo + 2 * k;
            FloatVector b = FloatVector.broadcast(s, xp[xk]);
            a00 = w0.fma(b, a00); a01 = w1.fma(b, a01);
            b = FloatVector.broadcast(s, xp[xk + 1]);
            a10 = w0.fma(b, a10); a11 = w1.fma(b, a11);
        }
        a00.add(c00).intoArray(acc, 0); a01.add(c01).intoArray(acc, 8);
        a10.add(c10).intoArray(acc, 16); a11.add(c11).intoArray(acc, 24);
        for (int i = 0; i < 2; i++) merge(acc, i * PANEL, y[t + i], col, valid, first);
    }

    /** The decode kernel for fp32: one row straight from the packed (mapped or off-heap) panel. */
    private static void tile1(MemorySegment w, long off, int kc, float[] x, int k0, float[] y, int col, int valid, boolean first) {
        var s = FS;
        FloatVector a0 = FloatVector.zero(s), a1 = FloatVector.zero(s), c0 = FloatVector.zero(s), c1 = FloatVector.zero(s);
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            long o = off + 64L * k;
            FloatVector b = FloatVector.broadcast(s, x[k0 + k]);
            a0 = FloatVector.fromMemorySegment(s, w, o, LE).fma(b, a0);
            a1 = FloatVector.fromMemorySegment(s, w, o + 32, LE).fma(b, a1);
            FloatVector d = FloatVector.broadcast(s, x[k0 + k + 1]);
            c0 = FloatVector.fromMemorySegment(s, w, o + 64, LE).fma(d, c0);
            c1 = FloatVector.fromMemorySegment(s, w, o + 96, LE).fma(d, c1);
        }
        for (; k < kc; k++) {
            long o = off + 64L * k;
            FloatVector b = FloatVector.broadcast(s, x[k0 + k]);
            a0 = FloatVector.fromMemorySegment(s, w, o, LE).fma(b, a0);
            a1 = FloatVector.fromMemorySegment(s, w, o + 32, LE).fma(b, a1);
        }
        store(a0.add(c0), a1.add(c1), y, col, valid, first);
    }

    /** The decode kernel for bf16: widens in registers (shift and mask) straight from the packed panel. */
    private static void tile1Bf16(MemorySegment w, long off, int kc, float[] x, int k0, float[] y, int col, int valid, boolean first) {
        var s = FS;
        FloatVector a0 = FloatVector.zero(s), a1 = FloatVector.zero(s), c0 = FloatVector.zero(s), c1 = FloatVector.zero(s);
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            long o = off + 32L * k;
            IntVector v = IntVector.fromMemorySegment(I256, w, o, LE);
            FloatVector b = FloatVector.broadcast(s, x[k0 + k]);
            a0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(b, a0);
            a1 = ((FloatVector) v.and(0xFFFF0000).reinterpretAsFloats()).fma(b, a1);
            IntVector u = IntVector.fromMemorySegment(I256, w, o + 32, LE);
            FloatVector d = FloatVector.broadcast(s, x[k0 + k + 1]);
            c0 = ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(d, c0);
            c1 = ((FloatVector) u.and(0xFFFF0000).reinterpretAsFloats()).fma(d, c1);
        }
        for (; k < kc; k++) {
            IntVector v = IntVector.fromMemorySegment(I256, w, off + 32L * k, LE);
            FloatVector b = FloatVector.broadcast(s, x[k0 + k]);
            a0 = ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()).fma(b, a0);
            a1 = ((FloatVector) v.and(0xFFFF0000).reinterpretAsFloats()).fma(b, a1);
        }
        store(a0.add(c0), a1.add(c1), y, col, valid, first);
    }

    /** One token row; two k-streams of accumulators hide the FMA latency (only 2 columns of vectors per k). */
    private static void tile1(float[] w, int kc, float[] x, int k0, float[] y, int col, int valid, boolean first) {
        var s = FS;
        FloatVector a0 = FloatVector.zero(s), a1 = FloatVector.zero(s), c0 = FloatVector.zero(s), c1 = FloatVector.zero(s);
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            FloatVector b = FloatVector.broadcast(s, x[k0 + k]);
            a0 = FloatVector.fromArray(s, w, k * PANEL).fma(b, a0);
            a1 = FloatVector.fromArray(s, w, k * PANEL + 8).fma(b, a1);
            FloatVector d = FloatVector.broadcast(s, x[k0 + k + 1]);
            c0 = FloatVector.fromArray(s, w, k * PANEL + 16).fma(d, c0);
            c1 = FloatVector.fromArray(s, w, k * PANEL + 24).fma(d, c1);
        }
        for (; k < kc; k++) {
            FloatVector b = FloatVector.broadcast(s, x[k0 + k]);
            a0 = FloatVector.fromArray(s, w, k * PANEL).fma(b, a0);
            a1 = FloatVector.fromArray(s, w, k * PANEL + 8).fma(b, a1);
        }
        store(a0.add(c0), a1.add(c1), y, col, valid, first);
    }

    private static void store(FloatVector lo, FloatVector hi, float[] y, int col, int valid, boolean first) {
        var s = FS;
        if (valid == PANEL) {
            if (!first) {
                lo = lo.add(FloatVector.fromArray(s, y, col));
                hi = hi.add(FloatVector.fromArray(s, y, col + 8));
            }
            lo.intoArray(y, col);
            hi.intoArray(y, col + 8);
            return;
        }
        // The last, partial panel: masked so the padding rows are neither read nor written.
        VectorMask<Float> mLo = s.indexInRange(col, col + valid);
        VectorMask<Float> mHi = s.indexInRange(col + 8, col + valid);
        if (!first) {
            lo = lo.add(FloatVector.fromArray(s, y, col, mLo));
            hi = hi.add(FloatVector.fromArray(s, y, col + 8, mHi));
        }
        lo.intoArray(y, col, mLo);
        hi.intoArray(y, col + 8, mHi);
    }

    @Override
    public void row(int r, float[] out) {
        long base = (long) (r / PANEL) * stride * PANEL;
        int j = r % PANEL;
        switch (dtype) {
            case F32 -> { for (int k = 0; k < cols; k++) out[k] = packed.getAtIndex(F32_LE, base + index(j, k)); }
            case BF16 -> { for (int k = 0; k < cols; k++) out[k] = VectorKernels.bf16ToFloat(packed.getAtIndex(I16_LE, base + index(j, k))); }
            case F16 -> { for (int k = 0; k < cols; k++) out[k] = Float.float16ToFloat(packed.getAtIndex(I16_LE, base + index(j, k))); }
            default -> throw new IllegalStateException(dtype.name());
        }
    }

    private static final java.nio.ByteOrder LE = java.nio.ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32_LE = VectorKernels.F32_LE;
    private static final ValueLayout.OfShort I16_LE = VectorKernels.I16_LE;
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final jdk.incubator.vector.VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
}
