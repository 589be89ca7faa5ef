package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A block-quantized weight (GGML Q8_0 or Q4_0) stored row by row ([out, in]), dequantized on the fly.
 * Rows are split into contiguous ranges across threads. One token: each row's blocks are dotted with
 * x straight from memory. Batches of 8 or more on 512-bit machines: the panel kernels of
 * {@link PanelMatmul}, fed 16-row blocks dequantized on the fly; batches of 2–7 there: each row's
 * blocks converted once for up to four tokens. Q8_0 batches of 2–16 on 256-bit machines: each row's
 * blocks converted and scaled once per four tokens ({@link VectorKernels#dotQ8_0Narrow4}). Other
 * batches: each group of 4 rows is dequantized once into a per-thread fp32 scratch (in L2) and
 * multiplied with 3 tokens at a time by a 4×3 register tile. Either way the dequantization is paid
 * once per call (or per four tokens), not once per token.
 */
public final class QuantizedRowMatrix implements WeightMatrix {
    private static final int GROUP = 4;

    private final MemorySegment data;
    private final DType dtype;
    private final int rows;
    private final int cols;
    private final long rowBytes;

    public QuantizedRowMatrix(MemorySegment data, DType dtype, int rows, int cols) {
        if (dtype != DType.Q8_0 && dtype != DType.Q4_0) {
            throw new IllegalArgumentException("row-major matrices are block-quantized (Q8_0, Q4_0), got " + dtype);
        }
        if (cols % dtype.blockSize() != 0) {
            throw new IllegalArgumentException(dtype + " rows need a multiple of " + dtype.blockSize() + " columns, got " + cols);
        }
        this.rowBytes = dtype.byteSize(cols);
        if (data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("expected " + rowBytes * rows + " bytes for " + rows + "x" + cols + " " + dtype
                    + ", got " + data.byteSize());
        }
        this.data = data;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    public DType dtype() { return dtype; }

    /**
     * Batches from this many rows go through the packed-panel kernels on 512-bit machines (1B Q8_0:
     * 512-token prefill 44.7 tok/s on the 4×3 tile, 94–100 through the panels; 16 concurrent
     * sequences 23 → 41 tok/s).
     */
    static final int PANEL_BATCH = 8;

    /** On 256-bit machines, Q8_0 batches up to this size take row dots of four tokens at a time. */
    static final int SMALL_Q8_BATCH = Integer.getInteger("basalt.kernels.q8rows", 16);

    @Override
    public void matmul(float[][] x, float[][] y) {
        int batch = x.length;
        if (PackedKernels512.ENABLED && batch >= PANEL_BATCH) {
            // The register-tiled batch kernels of PackedMatrix, fed panel blocks dequantized on the fly: each
            // block is dequantized once per call and used by every token row.
            PanelMatmul.matmul(x, y, rows, cols, this::loadPanel);
            return;
        }
        if (PackedKernels512.ENABLED && batch > 1) {
            // Small batches: each row streams from memory once and each of its blocks is converted
            // once for up to four tokens (1B Q8_0 at 4 concurrent sequences, bare child: 7.8 → 27.7 tok/s;
            // a 5632 × 2048 Q4_0 matrix at batch 4 in JMH: 2510 → 1129 µs).
            boolean q4 = dtype == DType.Q4_0;
            Parallel.forRange(rows, rowBytes * batch, (start, end) -> {
                for (int r = start; r < end; r++) {
                    for (int t = 0; t < batch; t += 4) {
                        PackedKernels512.dotBlockRows(data, rowBytes * r, q4, x, t, Math.min(4, batch - t), cols, y, r);
                    }
                }
            });
            return;
        }
        if (batch >= 2 && batch <= SMALL_Q8_BATCH && dtype == DType.Q8_0) {
            // Small batches: each row streams once and stays in L1 while its blocks are converted once per four
            // tokens (then two, then one). Three tokens run as four, the third repeated into a scratch row.
            Parallel.forRange(rows, rowBytes * batch, (start, end) -> {
                float[] spare = batch % 4 == 3 ? new float[rows] : null;
                for (int r = start; r < end; r++) {
                    long off = rowBytes * r;
                    int t = 0;
                    for (; t + 4 <= batch; t += 4) {
                        VectorKernels.dotQ8_0Narrow4(data, off, x[t], x[t + 1], x[t + 2], x[t + 3], cols, y[t], y[t + 1], y[t + 2], y[t + 3], r);
                    }
                    switch (batch - t) {
                        case 3 -> VectorKernels.dotQ8_0Narrow4(data, off, x[t], x[t + 1], x[t + 2], x[t + 2], cols, y[t], y[t + 1], y[t + 2], spare, r);
                        case 2 -> VectorKernels.dotQ8_0Narrow2(data, off, x[t], x[t + 1], cols, y[t], y[t + 1], r);
                        case 1 -> y[t][r] = VectorKernels.dotQ8_0Narrow(data, off, x[t], cols);
                        default -> { }
                    }
                }
            });
            return;
        }
        Parallel.RangeBody body = (start, end) -> {
            int r = start;
            if (batch >= 3) {
                MemorySegment scratch = SCRATCH.get();
                if (scratch.byteSize() < 4L * GROUP * cols) {
                    scratch = Arena.ofAuto().allocate(4L * GROUP * cols, 64);
                    SCRATCH.set(scratch);
                }
                float[] rowBuf = new float[cols];
                long fRow = 4L * cols;
                int tokEnd = batch / 3 * 3;
                for (; r + GROUP <= end; r += GROUP) {
                    for (int i = 0; i < GROUP; i++) {
                        row(r + i, rowBuf);
                        MemorySegment.copy(rowBuf, 0, scratch, VectorKernels.F32_LE, fRow * i, cols);
                    }
                    for (int t = 0; t < tokEnd; t += 3) {
                        VectorKernels.dotTile4x3F32(scratch, 0, fRow, x[t], x[t + 1], x[t + 2], cols, y[t], y[t + 1], y[t + 2], r);
                    }
                    for (int t = tokEnd; t < batch; t++) {
                        for (int i = 0; i < GROUP; i++) y[t][r + i] = VectorKernels.dotF32(scratch, fRow * i, x[t], cols);
                    }
                }
            }
            for (; r < end; r++) {
                long off = rowBytes * r;
                for (int t = 0; t < batch; t++) {
                    y[t][r] = dtype == DType.Q8_0 ? VectorKernels.dotQ8_0(data, off, x[t], cols)
                            : VectorKernels.dotQ4_0(data, off, x[t], cols);
                }
            }
        };
        if (batch == 1) Parallel.forRangeFine(rows, rowBytes, body); // decode: rows share nothing
        else Parallel.forRange(rows, rowBytes * batch, body);
    }

    private static final ThreadLocal<MemorySegment> SCRATCH = ThreadLocal.withInitial(() -> MemorySegment.NULL);
    private static final ThreadLocal<float[]> ROWS16 = ThreadLocal.withInitial(() -> new float[PackedMatrix.PANEL * PackedMatrix.KC]);
    private static final ThreadLocal<byte[]> BLOCKS = ThreadLocal.withInitial(() -> new byte[(int) DType.Q8_0.byteSize(PackedMatrix.KC)]);

    /**
     * Dequantizes columns [k0, k0 + kc) of rows 16p … 16p + 15 into w as [k][16] (rows past the
     * matrix: zeros); kc and k0 are multiples of the block size. Each row dequantizes with vector
     * conversions into [16][KC] (a Q8_0 row's blocks are first copied into an array, so its loop reads
     * a Java array), then gathers transpose them.
     */
    private void loadPanel(int p, int k0, int kc, float[] w) {
        int panel = PackedMatrix.PANEL;
        byte[] buf = BLOCKS.get();
        int blocks = kc / 32;
        int bytes = (int) dtype.byteSize(kc);
        float[] t = ROWS16.get();
        for (int i = 0; i < panel; i++) {
            int r = p * panel + i;
            if (r >= rows) {
                java.util.Arrays.fill(t, i * PackedMatrix.KC, i * PackedMatrix.KC + kc, 0f);
                continue;
            }
            long off = rowBytes * r + dtype.byteSize(k0);
            if (dtype == DType.Q8_0) {
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, buf, 0, bytes);
                PackedKernels512.dequantQ8(buf, blocks, t, i * PackedMatrix.KC);
            } else {
                VectorKernels.dequantQ4_0(data, off, t, i * PackedMatrix.KC, kc);
            }
        }
        PackedKernels512.transposeRows(t, kc, w);
    }

    @Override
    public void row(int r, float[] out) {
        long off = rowBytes * r;
        switch (dtype) {
            case Q8_0 -> VectorKernels.dequantQ8_0(data, off, out, cols);
            case Q4_0 -> VectorKernels.dequantQ4_0(data, off, out, 0, cols);
            default -> throw new IllegalStateException(dtype.name());
        }
    }
}
