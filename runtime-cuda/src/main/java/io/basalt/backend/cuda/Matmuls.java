package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import java.util.Optional;

/**
 * y[n][rows] = x[n][cols] · Wᵀ (+ bias) for a device matrix. cuBLASLt (when installed) takes fp32 matrices from
 * {@link #LT_MIN_ROWS} activation rows up, where a tensor-core GEMM beats our warp-per-row kernel; basalt_matmul takes
 * the rest (decode batches, bf16 matrices: cuBLASLt multiplies like types, and the activations are fp32).
 */
final class Matmuls {
    /** Below this many activation rows a step is a decode-sized GEMV, which basalt_matmul runs at bandwidth. */
    static final int LT_MIN_ROWS = 32;

    private final Kernels kernels;
    private final Optional<CublasLt> lt;

    Matmuls(Kernels kernels, Optional<CublasLt> lt) {
        this.kernels = kernels;
        this.lt = lt;
    }

    void run(Stream s, DeviceBuffer y, DeviceWeights.Matrix w, DeviceBuffer x, DeviceBuffer bias, int n) {
        if (n >= LT_MIN_ROWS && !w.bf16() && lt.isPresent() && lt.get().aligned(y, w.data(), x, bias)) {
            lt.get().matmul(y, w.data(), x, bias, CublasLt.DType.FP32, w.rows(), w.cols(), n, s);
        } else {
            kernels.matmul(s, y, w.data(), w.bf16(), x, bias, w.rows(), w.cols(), n);
        }
    }
}
