package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import java.util.Optional;

/**
 * y[n][rows] = x[n][cols] · Wᵀ (+ bias) for a device matrix. cuBLASLt (when installed) takes the products from
 * {@link #LT_MIN_ROWS} activation rows up, where a tensor-core GEMM beats our warp-per-row kernel; basalt_matmul takes
 * the rest (decode batches, misaligned operands).
 *
 * <p>cuBLASLt multiplies like types and the activations are fp32: for a bf16 matrix, basalt_to_bf16 first rounds x
 * (nearest even) into a bf16 scratch of this class, and cuBLASLt multiplies bf16·bf16 with fp32 accumulation into fp32
 * y. That rounds the activations as well as the weights (basalt_matmul and the CPU backend keep fp32 activations):
 * prefill logits of a bf16 model differ from theirs by that rounding (CudaPrefillTest measures it).
 */
final class Matmuls implements AutoCloseable {
    /** Below this many activation rows a step is a decode-sized GEMV, which basalt_matmul runs at bandwidth. */
    static final int LT_MIN_ROWS = 32;

    private final Cuda cuda;
    private final Kernels kernels;
    private final Optional<CublasLt> lt;
    /** x rounded to bf16, [rows][cols] uint16 for the largest step reserved; null until a bf16 product needs it. */
    private DeviceBuffer xBf16;

    Matmuls(Cuda cuda, Kernels kernels, Optional<CublasLt> lt) {
        this.cuda = cuda;
        this.kernels = kernels;
        this.lt = lt;
    }

    /**
     * Sizes the bf16 activation scratch for steps of up to {@code rows} rows of bf16 matrices of up to {@code cols}
     * columns ({@code 0}: no bf16 matrices). Only cuBLASLt's path uses it, so nothing is allocated below
     * {@link #LT_MIN_ROWS} rows or without cuBLASLt. True when the buffer moved (captured graphs are stale).
     */
    boolean reserve(int rows, int cols) {
        if (lt.isEmpty() || cols <= 0 || rows < LT_MIN_ROWS) return false;
        long bytes = 2L * rows * cols;
        if (xBf16 != null && xBf16.size() >= bytes) return false;
        close();
        xBf16 = cuda.alloc(bytes);
        return true;
    }

    void run(Stream s, DeviceBuffer y, DeviceWeights.Matrix w, DeviceBuffer x, DeviceBuffer bias, int n) {
        if (n >= LT_MIN_ROWS && lt.isPresent()) {
            CublasLt l = lt.get();
            if (!w.bf16()) {
                if (l.aligned(y, w.data(), x, bias)) {
                    l.matmul(y, w.data(), x, bias, CublasLt.DType.FP32, w.rows(), w.cols(), n, s);
                    return;
                }
            } else {
                long count = (long) n * w.cols();
                if (xBf16 == null || xBf16.size() < 2 * count) {
                    throw new IllegalStateException("bf16 product of " + n + " rows x " + w.cols()
                            + " cols beyond the reserved activation scratch (" + (xBf16 == null ? 0 : xBf16.size()) + " bytes)");
                }
                if (l.aligned(y, w.data(), xBf16, bias)) {
                    kernels.toBf16(s, xBf16, x, count);
                    l.matmul(y, w.data(), xBf16, bias, CublasLt.DType.BF16, w.rows(), w.cols(), n, s);
                    return;
                }
            }
        }
        kernels.matmul(s, y, w.data(), w.bf16(), x, bias, w.rows(), w.cols(), n);
    }

    @Override
    public void close() {
        if (xBf16 != null) {
            DeviceBuffer b = xBf16;
            xBf16 = null;
            cuda.free(b);
        }
    }
}
