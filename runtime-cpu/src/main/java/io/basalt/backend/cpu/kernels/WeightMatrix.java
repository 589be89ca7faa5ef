package io.basalt.backend.cpu.kernels;

/**
 * A stored 2-D weight W of shape [rows (outputs), cols (inputs)] that multiplies fp32 activations:
 * {@code y[t][r] = Σ_c W[r][c] · x[t][c]}. Float weights are repacked off-heap into the
 * kernel's panel layout ({@link PackedMatrix}); block-quantized ones are read in place
 * ({@link QuantizedRowMatrix}). A large model's float weights may be read from their stored rows until
 * their packed copy is ready ({@link DeferredPackedMatrix}). None is ever copied to the Java heap.
 */
public sealed interface WeightMatrix permits QuantizedRowMatrix, PackedMatrix, DeferredPackedMatrix {
    int rows();

    int cols();

    /** y[t][0..rows) = W · x[t][0..cols) for every t. */
    void matmul(float[][] x, float[][] y);

    /** Writes row r, dequantized to fp32, into out[0..cols). Used for embedding lookups. */
    void row(int r, float[] out);

    default void matvec(float[] x, float[] y) { matmul(new float[][] {x}, new float[][] {y}); }
}
