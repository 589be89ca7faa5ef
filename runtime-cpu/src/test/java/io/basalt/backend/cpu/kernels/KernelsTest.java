package io.basalt.backend.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.DType;
import io.basalt.model.quant.Dequantize;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every weight format's matmul/row against a float64 reference. The test packs its own bytes
 * (GGML / OCP MX layouts written out by hand) and decodes them with model.quant's scalar decoders
 * ({@link Dequantize}, checked against the formats' bit fields in DequantizeTest), never with the
 * kernels' own code, so a kernel that agrees with itself but not with the format is caught. Sizes are odd on purpose: 1/3/17 rows
 * (serial path), 613 rows (Parallel.forRange splits; on 512-bit machines decode takes nine groups of four
 * panels, then two full panels alone and a partial one), and columns that hit the vector main loop,
 * the single-vector loop and the scalar tail.
 */
class KernelsTest {
    static final int[] ROWS = {1, 3, 17, 613};
    static final int[] COLS_ANY = {7, 32, 64, 96, 203, 600}; // plain float formats: any width; 600 spans 3 k-blocks
    static final int[] COLS_BLOCK = {32, 64, 96, 224, 288};    // block formats: multiples of 32; 288 spans 2 k-blocks
    /** Allowed |got − ref| per unit of Σ|w·x|: float32 accumulation over ≤ 224 terms needs far less. */
    static final double REL_TOL = 1e-5;
    static final Arena ARENA = Arena.ofShared();
    /** Largest observed |got − ref| / Σ|w·x| per format (first word of the case label). */
    static final java.util.Map<String, Double> WORST = new java.util.concurrent.ConcurrentSkipListMap<>();

    /** A matrix as stored bytes plus the reference values decoded independently, [rows][cols]. */
    record Packed(byte[] bytes, double[][] ref) {}

    @AfterAll
    static void report() {
        WORST.forEach((k, v) -> System.out.printf("KernelsTest: %-15s max |got-ref| / sum|w*x| = %.3g%n", k, v));
        ARENA.close();
    }

    @Test
    void f32() { checkRowMajor(DType.F32, COLS_ANY, 1, (r, c) -> packF32(new Random(r * 1000L + c), r, c)); }

    @Test
    void bf16() { checkRowMajor(DType.BF16, COLS_ANY, 2, (r, c) -> packBf16(new Random(r * 1000L + c), r, c)); }

    @Test
    void f16WithSubnormals() { checkRowMajor(DType.F16, COLS_ANY, 3, (r, c) -> packF16(new Random(r * 1000L + c), r, c)); }

    @Test
    void q8_0() { checkRowMajor(DType.Q8_0, COLS_BLOCK, 4, (r, c) -> packQ8(new Random(r * 1000L + c), r, c)); }

    @Test
    void q4_0() { checkRowMajor(DType.Q4_0, COLS_BLOCK, 5, (r, c) -> packQ4(new Random(r * 1000L + c), r, c)); }

    interface Packer { Packed pack(int rows, int cols); }

    /** fp32 and bf16 rows served in place (every batch size the packed kernels split), then through their packed copy. */
    @Test
    void deferredPackingServesStoredRowsThenThePackedCopy() {
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            for (int rows : ROWS) {
                for (int cols : COLS_ANY) {
                    Random rnd = new Random(rows * 1000L + cols + 9);
                    Packed p = dtype == DType.F32 ? packF32(rnd, rows, cols) : packBf16(rnd, rows, cols);
                    for (var seg : segments(p.bytes())) {
                        String what = "deferred " + dtype + " " + rows + "x" + cols + " " + seg.getKey();
                        DeferredPackedMatrix m = new DeferredPackedMatrix(seg.getValue(), dtype, rows, cols);
                        checkMatrix(m, p.ref(), new Random(rows + cols), what + " (stored rows)");
                        assertFalse(m.isPacked());
                        m.pack(ARENA);
                        assertTrue(m.isPacked());
                        checkMatrix(m, p.ref(), new Random(rows + cols), what + " (packed)");
                    }
                }
            }
        }
    }

    private void checkRowMajor(DType dtype, int[] colsList, long seed, Packer packer) {
        for (int rows : ROWS) {
            for (int cols : colsList) {
                Packed p = packer.pack(rows, cols);
                for (var seg : segments(p.bytes())) {
                    String what = dtype + " " + rows + "x" + cols + " " + seg.getKey();
                    WeightMatrix m = WeightMatrices.rowMajor(seg.getValue(), dtype, rows, cols);
                    checkMatrix(m, p.ref(), new Random(seed * 31 + rows * 7L + cols), what);
                }
            }
        }
    }

    /**
     * Batches whose activations pass 512 KiB take the k-block-outer loop order of the panel kernels
     * (smaller ones go pair by pair); 3584 columns span 14 k-blocks, 35 rows a pair and a lone partial panel.
     */
    @Test
    void largeBatchesOverManyKBlocks() {
        int rows = 35, cols = 3584;
        record Case(DType dtype, Packer packer) {}
        for (Case c : List.of(new Case(DType.F32, (r, k) -> packF32(new Random(r + k), r, k)),
                new Case(DType.BF16, (r, k) -> packBf16(new Random(r + k + 1), r, k)),
                new Case(DType.Q8_0, (r, k) -> packQ8(new Random(r + k + 2), r, k)),
                new Case(DType.Q4_0, (r, k) -> packQ4(new Random(r + k + 3), r, k)))) {
            Packed p = c.packer().pack(rows, cols);
            MemorySegment seg = ARENA.allocate(p.bytes().length, 64);
            MemorySegment.copy(MemorySegment.ofArray(p.bytes()), 0, seg, 0, p.bytes().length);
            WeightMatrix m = WeightMatrices.rowMajor(seg, c.dtype(), rows, cols);
            Random rnd = new Random(cols);
            for (int batch : new int[] {9, 40}) { // 9 × 3584 floats: 126 KiB, 40: 560 KiB
                float[][] x = new float[batch][cols];
                for (float[] xr : x) for (int k = 0; k < cols; k++) xr[k] = (float) rnd.nextGaussian();
                float[][] y = new float[batch][rows];
                for (float[] yr : y) Arrays.fill(yr, Float.NaN);
                m.matmul(x, y);
                for (int t = 0; t < batch; t++) {
                    for (int r = 0; r < rows; r++) {
                        checkDot(p.ref()[r], x[t], y[t][r], c.dtype() + " " + rows + "x" + cols + " batch " + batch + " t=" + t + " r=" + r);
                    }
                }
            }
        }
    }

    @Test
    void columnMajorF32() {
        for (int out : ROWS) {
            for (int in : COLS_ANY) {
                Random rnd = new Random(out * 1000L + in);
                float[] stored = new float[in * out]; // [in, out]: element (i, o) at i·out + o
                double[][] ref = new double[out][in];
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        stored[i * out + o] = (float) rnd.nextGaussian();
                        ref[o][i] = stored[i * out + o];
                    }
                }
                for (var seg : segments(le32(stored))) {
                    checkMatrix(WeightMatrices.columnMajor(seg.getValue(), DType.F32, in, out), ref, new Random(in + 7L * out),
                            "ColumnMajor F32 in=" + in + " out=" + out + " " + seg.getKey());
                }
            }
        }
    }

    /** The 256-bit kernels and bf16 interleave, whatever this machine prefers (AVX-512 machines run the 512-bit ones above). */
    @Test
    void narrowKernelsOnAnyMachine() {
        record Case(DType dtype, Packer packer) {}
        for (Case c : List.of(new Case(DType.F32, (r, k) -> packF32(new Random(r * 31L + k), r, k)),
                new Case(DType.BF16, (r, k) -> packBf16(new Random(r * 37L + k), r, k)),
                new Case(DType.F16, (r, k) -> packF16(new Random(r * 41L + k), r, k)))) {
            for (int rows : new int[] {3, 613}) {
                for (int cols : new int[] {96, 600}) {
                    Packed p = c.packer().pack(rows, cols);
                    MemorySegment seg = ARENA.allocate(p.bytes().length, 64);
                    MemorySegment.copy(MemorySegment.ofArray(p.bytes()), 0, seg, 0, p.bytes().length);
                    checkMatrix(PackedMatrix.fromRowMajor(seg, c.dtype(), rows, cols, ARENA, false), p.ref(),
                            new Random(rows + cols), "narrow " + c.dtype() + " " + rows + "x" + cols);
                }
            }
        }
    }

    /** The 256-bit Q8_0 row dots (one, two and four tokens), whatever this machine prefers, against the reference rows. */
    @Test
    void narrowQ8RowDotOnAnyMachine() {
        for (int cols : COLS_BLOCK) {
            Packed p = packQ8(new Random(cols), 5, cols);
            MemorySegment seg = ARENA.allocate(p.bytes().length, 64);
            MemorySegment.copy(MemorySegment.ofArray(p.bytes()), 0, seg, 0, p.bytes().length);
            float[] x = new float[cols];
            Random rnd = new Random(cols + 1);
            for (int c = 0; c < cols; c++) x[c] = (float) rnd.nextGaussian();
            for (int r = 0; r < 5; r++) {
                float got = VectorKernels.dotQ8_0Narrow(seg, DType.Q8_0.byteSize((long) r * cols), x, cols);
                checkDot(p.ref()[r], x, got, "narrow Q8_0 cols=" + cols + " r=" + r);
                float[][] four = new float[4][cols]; // four different tokens, each checked against its own dot
                for (float[] xt : four) for (int c = 0; c < cols; c++) xt[c] = (float) rnd.nextGaussian();
                float[][] y4 = new float[4][5];
                VectorKernels.dotQ8_0Narrow4(seg, DType.Q8_0.byteSize((long) r * cols), four[0], four[1], four[2], four[3], cols,
                        y4[0], y4[1], y4[2], y4[3], r);
                for (int t = 0; t < 4; t++) checkDot(p.ref()[r], four[t], y4[t][r], "four-token Q8_0 cols=" + cols + " r=" + r + " t=" + t);
                float[][] y2 = new float[2][5];
                VectorKernels.dotQ8_0Narrow2(seg, DType.Q8_0.byteSize((long) r * cols), four[2], four[3], cols, y2[0], y2[1], r);
                for (int t = 0; t < 2; t++) checkDot(p.ref()[r], four[2 + t], y2[t][r], "two-token Q8_0 cols=" + cols + " r=" + r + " t=" + t);
            }
        }
    }

    @Test
    void columnMajorBf16() { // bf16 panels interleave their rows: a separate packing path
        for (int out : ROWS) {
            for (int in : COLS_ANY) {
                Random rnd = new Random(out * 1000L + in + 1);
                byte[] stored = new byte[2 * in * out]; // [in, out] bf16
                double[][] ref = new double[out][in];
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        short bits = (short) (Float.floatToIntBits((float) rnd.nextGaussian()) >>> 16);
                        stored[2 * (i * out + o)] = (byte) bits;
                        stored[2 * (i * out + o) + 1] = (byte) (bits >> 8);
                        ref[o][i] = Dequantize.bf16(bits);
                    }
                }
                for (var seg : segments(stored)) {
                    checkMatrix(WeightMatrices.columnMajor(seg.getValue(), DType.BF16, in, out), ref, new Random(in + 7L * out),
                            "ColumnMajor BF16 in=" + in + " out=" + out + " " + seg.getKey());
                }
            }
        }
    }

    /**
     * matmul with batches that exercise every tile of the packed kernel (6-row groups, then a 4- and
     * a 2-row group and a single row for the rest), then row() bit-exact (as double) against the reference.
     */
    private static void checkMatrix(WeightMatrix m, double[][] ref, Random rnd, String what) {
        int rows = ref.length, cols = ref[0].length;
        assertEquals(rows, m.rows(), what);
        assertEquals(cols, m.cols(), what);
        // 37: batches of 32 rows or more widen bf16 through an array on 512-bit machines
        for (int batch : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 37, 38}) {
            float[][] x = new float[batch][cols];
            for (float[] xr : x) for (int c = 0; c < cols; c++) xr[c] = (float) rnd.nextGaussian();
            float[][] y = new float[batch][rows];
            for (float[] yr : y) Arrays.fill(yr, Float.NaN); // an output the kernel forgets stays NaN
            m.matmul(x, y);
            for (int t = 0; t < batch; t++) {
                for (int r = 0; r < rows; r++) checkDot(ref[r], x[t], y[t][r], what + " batch " + batch + " t=" + t + " r=" + r);
            }
        }
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            m.row(r, row);
            for (int c = 0; c < cols; c++) assertEquals(ref[r][c], row[c], 0.0, what + " row(" + r + ")[" + c + "]");
        }
    }

    private static void checkDot(double[] w, float[] x, float got, String what) {
        double sum = 0, abs = 0;
        for (int c = 0; c < w.length; c++) {
            sum += w[c] * x[c];
            abs += Math.abs(w[c] * x[c]);
        }
        double err = Math.abs(got - sum);
        if (abs > 0) WORST.merge(what.substring(0, what.indexOf(' ')), err / abs, Math::max);
        assertTrue(err <= REL_TOL * abs + 1e-30, what + ": expected " + sum + " got " + got + " (|Δ| " + err + ", Σ|w·x| " + abs + ")");
    }

    @Test
    void mxfp4Experts() {
        int experts = 3;
        for (int rows : ROWS) {
            for (int cols : COLS_BLOCK) {
                Random rnd = new Random(rows * 1000L + cols);
                int nb = cols / 32;
                byte[] blocks = new byte[experts * rows * nb * 16];
                byte[] scales = new byte[experts * rows * nb];
                double[][][] ref = new double[experts][rows][cols];
                for (int e = 0; e < experts; e++) {
                    for (int r = 0; r < rows; r++) {
                        for (int b = 0; b < nb; b++) {
                            int blk = (e * rows + r) * nb + b;
                            // The row test covers E8M0 bytes 0..252 (above, 6·2^(s−127) overflows fp32);
                            // matvec keeps to a range where s·2^k stays normal, as in real checkpoints.
                            int scale = rows == 17 ? rnd.nextInt(253) : 117 + rnd.nextInt(21);
                            scales[blk] = (byte) scale;
                            for (int j = 0; j < 16; j++) {
                                int lo = rnd.nextInt(16), hi = rnd.nextInt(16);
                                blocks[blk * 16 + j] = (byte) (lo | hi << 4);
                            }
                        }
                        float[] row = new float[cols];
                        Dequantize.mxfp4(MemorySegment.ofArray(blocks), MemorySegment.ofArray(scales), (e * rows + r) * (long) nb,
                                row, 0, cols);
                        for (int c = 0; c < cols; c++) ref[e][r][c] = row[c];
                    }
                }
                var blockSegs = segments(blocks);
                var scaleSegs = segments(scales);
                for (int s = 0; s < blockSegs.size(); s++) {
                    String what = "MXFP4 " + experts + "x" + rows + "x" + cols + " " + blockSegs.get(s).getKey();
                    Mxfp4Experts m = new Mxfp4Experts(blockSegs.get(s).getValue(), scaleSegs.get(s).getValue(), experts, rows, cols);
                    float[] out = new float[cols];
                    for (int e = 0; e < experts; e++) {
                        for (int r = 0; r < rows; r++) {
                            m.row(e, r, out);
                            for (int c = 0; c < cols; c++) assertEquals(ref[e][r][c], out[c], 0.0, what + " row(" + e + "," + r + ")[" + c + "]");
                        }
                        if (rows == 17) continue; // extreme scales: exactness of row() only
                        float[] x = new float[cols];
                        for (int c = 0; c < cols; c++) x[c] = (float) rnd.nextGaussian();
                        float[] y = new float[rows];
                        Arrays.fill(y, Float.NaN);
                        m.matvec(e, x, y);
                        for (int r = 0; r < rows; r++) checkDot(ref[e][r], x, y[r], what + " matvec expert " + e + " r=" + r);
                    }
                }
            }
        }
    }

    // ---- the reference: model.quant's decoders -----------------------------------------------

    /** Each stored row decoded by {@link Dequantize#row}, [rows][cols]. */
    static double[][] decodeRows(byte[] bytes, DType dtype, int rows, int cols) {
        MemorySegment seg = MemorySegment.ofArray(bytes);
        double[][] ref = new double[rows][cols];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequantize.row(seg, dtype, r * dtype.byteSize(cols), row, 0, cols);
            for (int c = 0; c < cols; c++) ref[r][c] = row[c];
        }
        return ref;
    }

    // ---- packers: random values, stored bytes, reference ------------------------------------

    static Packed packF32(Random rnd, int rows, int cols) {
        float[] v = new float[rows * cols];
        double[][] ref = new double[rows][cols];
        for (int i = 0; i < v.length; i++) ref[i / cols][i % cols] = v[i] = (float) rnd.nextGaussian();
        return new Packed(le32(v), ref);
    }

    static Packed packBf16(Random rnd, int rows, int cols) {
        byte[] b = new byte[2 * rows * cols];
        for (int i = 0; i < rows * cols; i++) {
            put16(b, 2 * i, Float.floatToRawIntBits((float) rnd.nextGaussian()) >>> 16); // truncate: exactly bf16
        }
        return new Packed(b, decodeRows(b, DType.BF16, rows, cols));
    }

    static Packed packF16(Random rnd, int rows, int cols) {
        byte[] b = new byte[2 * rows * cols];
        for (int i = 0; i < rows * cols; i++) {
            // One in four is a subnormal (exponent field 0), the rest any finite normal-range value.
            int bits = rnd.nextInt(4) == 0 ? rnd.nextInt(0x400) : rnd.nextInt(0x7C00);
            if (rnd.nextBoolean()) bits |= 0x8000;
            put16(b, 2 * i, bits);
        }
        return new Packed(b, decodeRows(b, DType.F16, rows, cols));
    }

    /** A random fp16 scale of modest magnitude (some subnormal), as a quantizer might emit. */
    static int randomScaleBits(Random rnd) {
        int bits = rnd.nextInt(8) == 0 ? 1 + rnd.nextInt(0x3FF) : (rnd.nextInt(12) + 6) << 10 | rnd.nextInt(0x400);
        return rnd.nextBoolean() ? bits | 0x8000 : bits;
    }

    /** GGML block_q8_0: fp16 d, then int8 qs[32]; x = d·q. */
    static Packed packQ8(Random rnd, int rows, int cols) {
        int nb = cols / 32;
        byte[] b = new byte[rows * nb * 34];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < nb; k++) {
                int o = (r * nb + k) * 34;
                put16(b, o, randomScaleBits(rnd));
                for (int j = 0; j < 32; j++) b[o + 2 + j] = (byte) (rnd.nextInt(256) - 128);
            }
        }
        return new Packed(b, decodeRows(b, DType.Q8_0, rows, cols));
    }

    /** GGML block_q4_0: fp16 d, then 16 bytes; element j = (lo nibble of byte j) − 8, j+16 = (hi nibble) − 8. */
    static Packed packQ4(Random rnd, int rows, int cols) {
        int nb = cols / 32;
        byte[] b = new byte[rows * nb * 18];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < nb; k++) {
                int o = (r * nb + k) * 18;
                put16(b, o, randomScaleBits(rnd));
                for (int j = 0; j < 16; j++) b[o + 2 + j] = (byte) (rnd.nextInt(16) | rnd.nextInt(16) << 4);
            }
        }
        return new Packed(b, decodeRows(b, DType.Q4_0, rows, cols));
    }

    static void put16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }

    static byte[] le32(float[] v) {
        byte[] b = new byte[4 * v.length];
        for (int i = 0; i < v.length; i++) {
            int bits = Float.floatToRawIntBits(v[i]);
            for (int k = 0; k < 4; k++) b[4 * i + k] = (byte) (bits >>> 8 * k);
        }
        return b;
    }

    /**
     * The same bytes as three segments: a heap segment over byte[], an aligned native one, and a
     * read-only native slice at an odd address (mapped tensors are read-only and need not be aligned).
     */
    static List<java.util.Map.Entry<String, MemorySegment>> segments(byte[] bytes) {
        Function<Integer, MemorySegment> nativeAt = shift -> {
            MemorySegment s = ARENA.allocate(bytes.length + 8L, 64).asSlice(shift, bytes.length);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, 0, bytes.length);
            return s;
        };
        return List.of(java.util.Map.entry("heap", MemorySegment.ofArray(bytes)),
                java.util.Map.entry("native", nativeAt.apply(0)),
                java.util.Map.entry("native+1 read-only", nativeAt.apply(1).asReadOnly()));
    }
}
