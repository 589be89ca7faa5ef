package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.MemorySegment;

/** Builds the kernel-side representation of a weight matrix from its stored bytes. */
public final class WeightMatrices {
    private WeightMatrices() {}

    /** A [rows, cols] matrix stored row by row (PyTorch Linear layout, outputs × inputs). */
    public static WeightMatrix rowMajor(MemorySegment data, DType dtype, int rows, int cols) {
        return new RowMajorMatrix(data, dtype, rows, cols);
    }

    /** A Conv1D weight stored [in, out] (fp32), used as y = x·W. */
    public static WeightMatrix columnMajor(MemorySegment data, DType dtype, int in, int out) {
        if (dtype != DType.F32) throw new IllegalArgumentException("[in, out] weights are read in F32 only, got " + dtype);
        return new ColumnMajorF32Matrix(data, in, out);
    }
}
