package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Stream;

/**
 * y[n][rows] = x[n][cols] · Wᵀ (+ bias) for a device matrix: our basalt_matmul. (cuBLASLt for n ≥ 32 plugs in here once
 * its boundary class lands; the kernel is correct for every n, only slower on large prefills.)
 */
final class Matmuls {
    private final Kernels kernels;

    Matmuls(Kernels kernels) { this.kernels = kernels; }

    void run(Stream s, DeviceBuffer y, DeviceWeights.Matrix w, DeviceBuffer x, DeviceBuffer bias, int n) {
        kernels.matmul(s, y, w.data(), w.bf16(), x, bias, w.rows(), w.cols(), n);
    }
}
