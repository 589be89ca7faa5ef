package io.basalt.backend.cpu.kernels;

import java.lang.foreign.MemorySegment;

/**
 * An fp32 weight stored input-major ([in, out], GPT-2's Conv1D layout, y = x·W). Multiplied in
 * column form, y += x[i]·W[i, :], so the mapped rows stream in order without a transposed copy.
 */
public final class ColumnMajorF32Matrix implements WeightMatrix {
    private final MemorySegment data;
    private final int rows; // outputs
    private final int cols; // inputs

    public ColumnMajorF32Matrix(MemorySegment data, int inFeatures, int outFeatures) {
        if (data.byteSize() != 4L * inFeatures * outFeatures) {
            throw new IllegalArgumentException("expected " + 4L * inFeatures * outFeatures + " bytes, got " + data.byteSize());
        }
        this.data = data;
        this.rows = outFeatures;
        this.cols = inFeatures;
    }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    @Override
    public void matmul(float[][] x, float[][] y) {
        // Split the outputs across threads; each thread walks all inputs over its column range.
        Parallel.forRange(rows, 4L * cols * x.length, (start, end) -> {
            for (int t = 0; t < x.length; t++) java.util.Arrays.fill(y[t], start, end, 0f);
            for (int i = 0; i < cols; i++) {
                long off = 4L * ((long) i * rows + start);
                for (int t = 0; t < x.length; t++) {
                    VectorKernels.axpyF32(x[t][i], data, off, y[t], start, end - start);
                }
            }
        });
    }

    @Override
    public void row(int r, float[] out) {
        for (int i = 0; i < cols; i++) out[i] = data.getAtIndex(VectorKernels.F32_LE, (long) i * rows + r);
    }
}
