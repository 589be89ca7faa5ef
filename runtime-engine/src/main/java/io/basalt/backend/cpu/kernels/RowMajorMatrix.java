package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A weight stored row by row ([out, in], PyTorch Linear layout), in any of the supported formats.
 * Rows are split into contiguous ranges across threads; each weight row is read once per call and
 * dotted with every activation row, so a batch costs one pass over the weights.
 */
public final class RowMajorMatrix implements WeightMatrix {
    private final MemorySegment data;
    private final DType dtype;
    private final int rows;
    private final int cols;
    private final long rowBytes;

    public RowMajorMatrix(MemorySegment data, DType dtype, int rows, int cols) {
        if (cols % dtype.blockSize() != 0) {
            throw new IllegalArgumentException(dtype + " rows need a multiple of " + dtype.blockSize() + " columns, got " + cols);
        }
        this.rowBytes = dtype.byteSize(cols);
        if (data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("expected " + rowBytes * rows + " bytes for " + rows + "x" + cols + " " + dtype
                    + ", got " + data.byteSize());
        }
        switch (dtype) {
            case F32, F16, BF16, Q8_0, Q4_0 -> { }
            default -> throw new IllegalArgumentException("matrices of dtype " + dtype + " are not supported");
        }
        this.data = data;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    public DType dtype() { return dtype; }

    @Override
    public void matmul(float[][] x, float[][] y) {
        boolean tiled = dtype == DType.F32 && x.length >= 3 && cols % VectorKernels.F.length() == 0;
        Parallel.forRange(rows, rowBytes * x.length, (start, end) -> {
            int r = start;
            if (tiled) {
                // 4 rows × 3 tokens at a time; leftover tokens reuse the 4 rows while they are in cache.
                int rowEnd = start + (end - start) / 4 * 4;
                int tokEnd = x.length / 3 * 3;
                for (; r < rowEnd; r += 4) {
                    for (int t = 0; t < tokEnd; t += 3) {
                        VectorKernels.dotTile4x3F32(data, rowBytes * r, rowBytes, x[t], x[t + 1], x[t + 2], cols,
                                y[t], y[t + 1], y[t + 2], r);
                    }
                    for (int t = tokEnd; t < x.length; t++) {
                        for (int rr = r; rr < r + 4; rr++) y[t][rr] = dotRow(rowBytes * rr, x[t], null);
                    }
                }
            }
            float[] scratch = dtype == DType.F16 ? new float[cols] : null;
            for (; r < end; r++) {
                long off = rowBytes * r;
                for (int t = 0; t < x.length; t++) y[t][r] = dotRow(off, x[t], scratch);
            }
        });
    }

    private float dotRow(long off, float[] x, float[] scratch) {
        return switch (dtype) {
            case F32 -> VectorKernels.dotF32(data, off, x, cols);
            case BF16 -> VectorKernels.dotBf16(data, off, x, cols);
            case F16 -> VectorKernels.dotF16(data, off, x, cols, scratch);
            case Q8_0 -> VectorKernels.dotQ8_0(data, off, x, cols);
            case Q4_0 -> VectorKernels.dotQ4_0(data, off, x, cols);
            default -> throw new IllegalStateException(dtype.name());
        };
    }

    @Override
    public void row(int r, float[] out) {
        long off = rowBytes * r;
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, VectorKernels.F32_LE, off, out, 0, cols);
            case BF16 -> {
                for (int i = 0; i < cols; i++) out[i] = VectorKernels.bf16ToFloat(data.get(VectorKernels.I16_LE, off + 2L * i));
            }
            case F16 -> {
                for (int i = 0; i < cols; i++) out[i] = Float.float16ToFloat(data.get(VectorKernels.I16_LE, off + 2L * i));
            }
            case Q8_0 -> {
                for (int b = 0; b < cols / 32; b++) {
                    long o = off + 34L * b;
                    float scale = Float.float16ToFloat(data.get(VectorKernels.I16_LE, o));
                    for (int j = 0; j < 32; j++) out[b * 32 + j] = data.get(ValueLayout.JAVA_BYTE, o + 2 + j) * scale;
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < cols / 32; b++) {
                    long o = off + 18L * b;
                    float scale = Float.float16ToFloat(data.get(VectorKernels.I16_LE, o));
                    for (int j = 0; j < 16; j++) {
                        int q = data.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                        out[b * 32 + j] = ((q & 0x0F) - 8) * scale;
                        out[b * 32 + j + 16] = ((q >>> 4) - 8) * scale;
                    }
                }
            }
            default -> throw new IllegalStateException(dtype.name());
        }
    }
}
