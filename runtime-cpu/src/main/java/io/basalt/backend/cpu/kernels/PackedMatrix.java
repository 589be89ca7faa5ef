package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;

/**
 * A float weight (fp32, bf16 or f16 storage) repacked once at load into panels of 16 output rows:
 * panel p holds W[16p .. 16p+16)[k] for every k as 16 consecutive elements, [panels][cols][16].
 * One layout serves decode and batches: the kernel broadcasts x[t][k] and multiplies it with the
 * panel's 16 weights of column k (an outer product), so no horizontal reduction is ever needed, each
 * weight is read from memory once per call, and in a batch each weight vector feeds several token
 * rows from registers (the register-tiled micro-kernel of JAVA.md §2.4).
 * This class holds the layout and picks the kernels: {@link PackedKernels256} (a column is two
 * vectors; 6 rows × 1 panel per batch tile), or, where 512-bit vectors are preferred,
 * {@link PackedKernels512} (one vector per column), whose batches run through {@link PanelMatmul}
 * (8 rows × 2 panels per tile). Batches widen bf16/f16 panels to fp32 one k-block at a time into a
 * per-thread scratch that stays in L1. bf16 is laid out so that widening never needs a cross-lane
 * shuffle (see {@link #index}): one integer load gives, through a shift (the low halves) and a mask
 * (the high halves), two fp32 vectors.
 */
public final class PackedMatrix implements WeightMatrix {
    static final int PANEL = 16;
    /** Columns per k-block: a 16 KB fp32 weight block plus 6 activation slices fit in L1 (32 KB). */
    static final int KC = 256;

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
    static final boolean WIDE = PackedKernels512.ENABLED;

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
        return fromRowMajor(src, dtype, rows, cols, arena, wide, true);
    }

    /** As above; {@code parallel} false packs on the calling thread alone (a background packer leaves the kernel threads alone). */
    static PackedMatrix fromRowMajor(MemorySegment src, DType dtype, int rows, int cols, Arena arena, boolean wide, boolean parallel) {
        PackedMatrix m = allocate(src, dtype, rows, cols, arena, wide);
        int eb = m.elemBytes;
        long rowBytes = (long) cols * eb;
        int span = m.stride * PANEL;   // elements of one packed panel
        // A panel at a time: its 16 rows read in bulk into an array, transposed there, written back in bulk. Element by
        // element through the segments this was the 1B model's cold start (17.6 s of 21 s to the first token).
        Parallel.RangeBody body = (p0, p1) -> {
            if (eb == 4) {
                int[] in = new int[PANEL * cols], out = new int[span];
                for (int p = p0; p < p1; p++) {
                    int n = Math.min(PANEL, rows - p * PANEL);
                    MemorySegment.copy(src, I32_LE, p * PANEL * rowBytes, in, 0, n * cols);
                    if (n < PANEL) java.util.Arrays.fill(out, 0);
                    for (int j = 0; j < n; j++) {
                        for (int k = 0, from = j * cols; k < cols; k++) out[k * PANEL + j] = in[from + k];
                    }
                    MemorySegment.copy(out, 0, m.packed, I32_LE, (long) p * span * 4, span);
                }
            } else {
                short[] in = new short[PANEL * cols], out = new short[span];
                for (int p = p0; p < p1; p++) {
                    int n = Math.min(PANEL, rows - p * PANEL);
                    MemorySegment.copy(src, I16_LE, p * PANEL * rowBytes, in, 0, n * cols);
                    java.util.Arrays.fill(out, (short) 0);   // padding rows and the wide bf16 pad column stay zero
                    for (int j = 0; j < n; j++) {
                        int from = j * cols;
                        if (dtype == DType.BF16 && wide) {          // columns in pairs: (k >> 1) · 32 + 2j + (k & 1)
                            for (int k = 0; k < cols; k++) out[(k >> 1) * 2 * PANEL + 2 * j + (k & 1)] = in[from + k];
                        } else {                                   // k · 16 + the row's slot (interleaved for 256-bit bf16)
                            int slot = (int) m.index(j, 0);
                            for (int k = 0; k < cols; k++) out[k * PANEL + slot] = in[from + k];
                        }
                    }
                    MemorySegment.copy(out, 0, m.packed, I16_LE, (long) p * span * 2, span);
                }
            }
        };
        if (parallel) Parallel.forRange(m.panels, rowBytes * PANEL, body);
        else body.run(0, m.panels);
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
                        for (int j = 0; j < width; j++) {
                            m.packed.set(I16_LE, base + 2 * m.index(j, k), src.get(I16_LE, s + 2L * j));
                        }
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

    private static PackedMatrix allocate(MemorySegment src, DType dtype, int rows, int cols, Arena arena,
                                         boolean wide) {
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

    /** {@code -Dbasalt.kernels.inplace=false} restores the copying path (for side-by-side measurement). */
    static final boolean IN_PLACE = KernelSettings.inPlaceBatches();

    /** Per-thread panel block (L1-sized), shared with {@link PanelMatmul}. */
    static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[KC * PANEL]);

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
        if (batch == 2 && !wide && IN_PLACE && (dtype == DType.F32 || dtype == DType.BF16)) {
            gemv2(x[0], x[1], y[0], y[1]);
            return;
        }
        // Token rows go in groups of 6 (the full micro-kernel), then groups of 4 and/or one of 2 for the rest;
        // each group's rows are interleaved as [k][group] so its kernel broadcasts from one array
        // walked in order and every bounds check hoists out of the loop. A single row stays as is.
        int sixes = batch / 6, rest = batch % 6;
        int fours = rest >= 4 ? 1 : 0, twos = (rest - 4 * fours) >= 2 ? 1 : 0;
        if (sixes > 0 && (rest == 2 || rest == 3)) {
            // 8 = 4 + 4 rather than 6 + 2: the 2-row tile has too few accumulators to hide the FMA latency
            sixes--;
            fours = 2;
            twos = 0;
        }
        int full = sixes, four = fours, two = twos;
        int single = batch - 6 * full - 4 * four - 2 * two;
        float[] x6 = full > 0 ? interleave(x, 0, full * 6, 6) : null;
        float[] x4 = four > 0 ? interleave(x, full * 6, 4 * four, 4) : null;
        float[] x2 = two > 0 ? interleave(x, full * 6 + 4 * four, 2, 2) : null;
        int t1 = batch - single;
        long panelBytes = (long) stride * PANEL * elemBytes;
        // fp32 and bf16 batches read each panel's k-block in place (the first row group brings it into L1 for the
        // others; bf16 widens in registers) instead of copying or widening it into a scratch block first. The copy
        // doubled the traffic of the memory-bound decode batches, and in place prefill ran about twice as fast: a
        // 512-token prompt on a 110M fp32 model 361-383 → 661-695 tok/s, 128 tokens on a 1B bf16 model 35.5 → 70.3.
        boolean inPlace = !wide && IN_PLACE && (dtype == DType.F32 || dtype == DType.BF16);
        boolean bf16 = dtype == DType.BF16;
        Parallel.RangeBody body = (p0, p1) -> {
            float[] w = SCRATCH.get();
            float[] acc = ACC.get(); // a tile's accumulators spill here before merging into y
            for (int p = p0; p < p1; p++) {
                int col = p * PANEL;
                int valid = Math.min(PANEL, rows - col);
                for (int k0 = 0; k0 < cols; k0 += KC) {
                    int kc = Math.min(KC, cols - k0);
                    boolean first = k0 == 0;
                    if (inPlace) {
                        long off = ((long) p * stride + k0) * PANEL * elemBytes;
                        if (bf16) {
                            for (int g = 0; g < full; g++) {
                                PackedKernels256.tile6Bf16InPlace(packed, off, kc, x6, (g * cols + k0) * 6, y, g * 6, col, valid, first, acc);
                            }
                            for (int g = 0; g < four; g++) {
                                PackedKernels256.tile4Bf16InPlace(packed, off, kc, x4, (g * cols + k0) * 4, y, full * 6 + 4 * g, col, valid, first, acc);
                            }
                            if (two > 0) {
                                PackedKernels256.tile2Bf16InPlace(packed, off, kc, x2, k0 * 2, y, full * 6 + 4 * four, col, valid, first, acc);
                            }
                            if (single > 0) PackedKernels256.tile1Bf16(packed, off, kc, x[t1], k0, y[t1], col, valid, first);
                        } else {
                            for (int g = 0; g < full; g++) {
                                PackedKernels256.tile6InPlace(packed, off, kc, x6, (g * cols + k0) * 6, y, g * 6, col, valid, first, acc);
                            }
                            for (int g = 0; g < four; g++) {
                                PackedKernels256.tile4InPlace(packed, off, kc, x4, (g * cols + k0) * 4, y, full * 6 + 4 * g, col, valid, first, acc);
                            }
                            if (two > 0) {
                                PackedKernels256.tile2InPlace(packed, off, kc, x2, k0 * 2, y, full * 6 + 4 * four, col, valid, first, acc);
                            }
                            if (single > 0) PackedKernels256.tile1(packed, off, kc, x[t1], k0, y[t1], col, valid, first);
                        }
                        continue;
                    }
                    load(p, k0, kc, w);
                    if (wide) { // one f16 row (batches took matmulWide)
                        PackedKernels512.tile1(w, kc, x[0], k0, y[0], col, valid, first);
                        continue;
                    }
                    for (int g = 0; g < full; g++) {
                        PackedKernels256.tile6(w, kc, x6, (g * cols + k0) * 6, y, g * 6, col, valid, first, acc);
                    }
                    for (int g = 0; g < four; g++) {
                        PackedKernels256.tile4(w, kc, x4, (g * cols + k0) * 4, y, full * 6 + 4 * g, col, valid, first, acc);
                    }
                    if (two > 0) {
                        PackedKernels256.tile2(w, kc, x2, k0 * 2, y, full * 6 + 4 * four, col, valid, first, acc);
                    }
                    if (single > 0) PackedKernels256.tile1(w, kc, x[t1], k0, y[t1], col, valid, first);
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
                        if (bf16) PackedKernels256.panels4Bf16(packed, off, panelBytes, cols, x, y, p * PANEL);
                        else PackedKernels256.panels4(packed, off, panelBytes, cols, x, y, p * PANEL);
                    }
                    continue;
                }
                for (int end = Math.min(panels, p + 4); p < end; p++, off += panelBytes) {
                    int col = p * PANEL, valid = Math.min(PANEL, rows - col);
                    if (wide) {
                        if (bf16) PackedKernels512.tile1Bf16(packed, off, cols, x, 0, y, col, valid, true);
                        else PackedKernels512.tile1(packed, off, cols, x, 0, y, col, valid, true);
                    } else {
                        if (bf16) PackedKernels256.tile1Bf16(packed, off, cols, x, 0, y, col, valid, true);
                        else PackedKernels256.tile1(packed, off, cols, x, 0, y, col, valid, true);
                    }
                }
            }
        });
    }

    /**
     * Two rows on 256-bit machines (fp32, bf16): like {@link #gemv}, whole panels straight from the packed weights, two
     * panels per step for both rows ({@link PackedKernels256#rows2Panels2}); a last odd panel takes the one-row tile.
     */
    private void gemv2(float[] x0, float[] x1, float[] y0, float[] y1) {
        long panelBytes = (long) stride * PANEL * elemBytes;
        int pairs = (panels + 1) / 2, fullPanels = rows / PANEL;
        boolean bf16 = dtype == DType.BF16;
        Parallel.forRangeFine(pairs, 2 * panelBytes, (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int p = 2 * q;
                long off = p * panelBytes;
                if (p + 2 <= fullPanels) {
                    if (bf16) PackedKernels256.rows2Panels2Bf16(packed, off, panelBytes, cols, x0, x1, y0, y1, p * PANEL);
                    else PackedKernels256.rows2Panels2(packed, off, panelBytes, cols, x0, x1, y0, y1, p * PANEL);
                    continue;
                }
                for (int end = Math.min(panels, p + 2); p < end; p++, off += panelBytes) {
                    int col = p * PANEL, valid = Math.min(PANEL, rows - col);
                    if (bf16) {
                        PackedKernels256.tile1Bf16(packed, off, cols, x0, 0, y0, col, valid, true);
                        PackedKernels256.tile1Bf16(packed, off, cols, x1, 0, y1, col, valid, true);
                    } else {
                        PackedKernels256.tile1(packed, off, cols, x0, 0, y0, col, valid, true);
                        PackedKernels256.tile1(packed, off, cols, x1, 0, y1, col, valid, true);
                    }
                }
            }
        });
    }

    /** Batches on 512-bit machines: {@link PanelMatmul} over this matrix's panels, copied or widened. */
    private void matmulWide(float[][] x, float[][] y) {
        boolean large = x.length >= 32;
        // fp32 batches under 32 rows: the 8-row tiles read the panels in place (no copy); gpt2 C=16
        // 275–329 → 363–381 tok/s, alternated. Prefill-sized batches keep the copies.
        MemorySegment inPlace = dtype == DType.F32 && !large ? packed : null;
        PanelMatmul.matmul(x, y, rows, cols, (p, k0, kc, w) -> load(p, k0, kc, w, large), inPlace, stride);
    }

    /**
     * Rows [from, from + count) of x as groups of {@code group} rows, each laid out [k][group], with room
     * for {@code slots} rows (a last group short of rows keeps zeros in their place).
     */
    static float[] interleave(float[][] x, int cols, int from, int count, int group, int slots) {
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
                if (!wide) PackedKernels256.widenBf16(packed, off, w, n);
                else if (large) PackedKernels512.widenBf16ViaArray(packed, off, w, n);
                else PackedKernels512.widenBf16(packed, off, w, n);
            }
            case F16 -> widenF16(packed, off, w, n);
            default -> throw new IllegalStateException(dtype.name());
        }
    }

    /** Scalar, but auto-vectorised with F16C (JDK 25 has no vector fp16 conversion; JAVA.md §1.4). */
    private static void widenF16(MemorySegment src, long off, float[] w, int n) {
        for (int i = 0; i < n; i++) w[i] = Float.float16ToFloat(src.get(I16_LE, off + 2L * i));
    }

    private static final ThreadLocal<float[]> ACC = ThreadLocal.withInitial(() -> new float[6 * PANEL]);

    /** Stores (first k-block) or adds 16 spilled sums into y; takes arrays, not vectors, so C2 need not inline it. */
    static void merge(float[] acc, int from, float[] y, int col, int valid, boolean first) {
        if (first) System.arraycopy(acc, from, y, col, valid);
        else if (valid == PANEL && WIDE) {
            FloatVector.fromArray(FloatVector.SPECIES_512, acc, from)
                    .add(FloatVector.fromArray(FloatVector.SPECIES_512, y, col))
                    .intoArray(y, col);
        } else for (int j = 0; j < valid; j++) y[col + j] += acc[from + j];
    }

    @Override
    public void row(int r, float[] out) {
        long base = (long) (r / PANEL) * stride * PANEL;
        int j = r % PANEL;
        switch (dtype) {
            case F32 -> { for (int k = 0; k < cols; k++) out[k] = packed.getAtIndex(F32_LE, base + index(j, k)); }
            case BF16 -> {
                for (int k = 0; k < cols; k++) {
                    out[k] = VectorKernels.bf16ToFloat(packed.getAtIndex(I16_LE, base + index(j, k)));
                }
            }
            case F16 -> {
                for (int k = 0; k < cols; k++) {
                    out[k] = Float.float16ToFloat(packed.getAtIndex(I16_LE, base + index(j, k)));
                }
            }
            default -> throw new IllegalStateException(dtype.name());
        }
    }

    private static final java.nio.ByteOrder LE = java.nio.ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32_LE = VectorKernels.F32_LE;
    private static final ValueLayout.OfShort I16_LE = VectorKernels.I16_LE;
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
}
