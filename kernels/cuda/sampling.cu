// Greedy sampling: basalt_argmax (kernels.abi), grid(n), block(256).
#include "common.cuh"
#include <math_constants.h>

// out[r] = the index of the largest logit of row r, the lowest index on ties (the CPU sampler's choice).
// NaN logits never win (every comparison with NaN is false); a row with no comparable logit gives 0.
extern "C" __global__ void __launch_bounds__(256)
basalt_argmax(int *out, const float *logits, int n, int vocab) {
    __shared__ float sv[32];
    __shared__ int si[32];
    int r = blockIdx.x;
    if (r >= n) return;
    const float *row = logits + (long long)r * vocab;
    float bv = -CUDART_INF_F;
    int bi = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float v = row[i];
        if (basalt_better(v, i, bv, bi)) { bv = v; bi = i; }
    }
    basalt_warp_argmax(bv, bi);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) { sv[warp] = bv; si[warp] = bi; }
    __syncthreads();
    if (warp == 0) {
        bv = lane < warps ? sv[lane] : -CUDART_INF_F;
        bi = lane < warps ? si[lane] : 0x7fffffff;
        basalt_warp_argmax(bv, bi);
        if (lane == 0) out[r] = bi == 0x7fffffff ? 0 : bi;
    }
}
