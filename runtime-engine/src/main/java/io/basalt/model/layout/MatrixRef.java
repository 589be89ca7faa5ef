package io.basalt.model.layout;

/**
 * Where an architecture's weight matrix lives in a checkpoint, independent of any backend: used as
 * y = W·x with W [rows = outputs, cols = inputs]. Backends bind it however they compute.
 *
 * @param name        the tensor
 * @param rows        outputs (rows of W)
 * @param cols        inputs (columns of W)
 * @param conv1d      stored transposed, [cols, rows] (GPT-2's Hugging Face Conv1D)
 * @param totalRows   rows of the stored tensor ({@code rows} unless W is a row slice of a fused tensor)
 * @param rowStart    first row of the slice (0 unless fused)
 * @param quantizable whether {@code --quantize} may block-quantize it (MoE routers: no)
 */
public record MatrixRef(String name, long rows, long cols, boolean conv1d, long totalRows, long rowStart, boolean quantizable) {
    public MatrixRef {
        if (rowStart < 0 || rowStart + rows > totalRows) throw new IllegalArgumentException("row slice outside " + name);
        if (conv1d && totalRows != rows) throw new IllegalArgumentException("a Conv1D weight cannot be sliced: " + name);
    }

    /** A [rows, cols] matrix in PyTorch Linear layout (outputs × inputs). */
    public static MatrixRef linear(String name, long rows, long cols) {
        return new MatrixRef(name, rows, cols, false, rows, 0, true);
    }

    /** A Conv1D weight stored [in, out], used as y = x·W. */
    public static MatrixRef conv1d(String name, long in, long out) {
        return new MatrixRef(name, out, in, true, out, 0, true);
    }

    /** Rows [rowStart, rowStart + rows) of a [totalRows, cols] matrix (q, k, v out of a fused qkv). */
    public static MatrixRef rowsOf(String name, long totalRows, long cols, long rowStart, long rows) {
        return new MatrixRef(name, rows, cols, false, totalRows, rowStart, true);
    }

    /** This matrix, never block-quantized. */
    public MatrixRef unquantized() { return new MatrixRef(name, rows, cols, conv1d, totalRows, rowStart, false); }

    /** The stored tensor's shape, as checked against the checkpoint. */
    public long[] storedShape() { return conv1d ? new long[] {cols, rows} : new long[] {totalRows, cols}; }
}
