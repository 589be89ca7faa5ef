package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Builds the kernel-side representation of a weight matrix from its stored bytes: float weights are
 * repacked once into 16-row panels ({@link PackedMatrix}, one layout for decode and batches);
 * block-quantized weights (Q8_0, Q4_0) keep their row blocks and are dequantized on the fly.
 */
public final class WeightMatrices {
    private WeightMatrices() {}

    /** As {@link #rowMajor(MemorySegment, DType, int, int, Arena)}, any packed copy freed by the GC. */
    public static WeightMatrix rowMajor(MemorySegment data, DType dtype, int rows, int cols) {
        return rowMajor(data, dtype, rows, cols, Arena.ofAuto());
    }

    /**
     * A [rows, cols] matrix stored row by row (PyTorch Linear layout, outputs × inputs); a packed copy
     * lives in {@code arena} (the model's, so it is freed when the model closes).
     */
    public static WeightMatrix rowMajor(MemorySegment data, DType dtype, int rows, int cols, Arena arena) {
        if (PackedMatrix.supports(dtype)) return PackedMatrix.fromRowMajor(data, dtype, rows, cols, arena);
        return new QuantizedRowMatrix(data, dtype, rows, cols);
    }

    /** As {@link #columnMajor(MemorySegment, DType, int, int, Arena)}, the packed copy freed by the GC. */
    public static WeightMatrix columnMajor(MemorySegment data, DType dtype, int in, int out) {
        return columnMajor(data, dtype, in, out, Arena.ofAuto());
    }

    /** A Conv1D weight stored [in, out] (fp32, bf16 or f16), used as y = x·W, packed into {@code arena}. */
    public static WeightMatrix columnMajor(MemorySegment data, DType dtype, int in, int out, Arena arena) {
        if (!PackedMatrix.supports(dtype)) {
            throw new IllegalArgumentException("[in, out] weights must be F32, BF16 or F16, got " + dtype);
        }
        return PackedMatrix.fromColumnMajor(data, dtype, in, out, arena);
    }
}
