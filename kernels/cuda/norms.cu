// Normalisations: basalt_rmsnorm, basalt_layernorm (kernels.abi), one block per row.
#include "common.cuh"

// out = x / sqrt(mean(x²) + eps) · w (ForwardMath.rmsNorm). As the CPU reference: mean and eps added in fp32, the
// reciprocal square root taken in double and rounded once to fp32, then w · (inv · x). Only the order of the
// sum of squares differs (a tree here, a sequential loop there).
extern "C" __global__ void __launch_bounds__(256)
basalt_rmsnorm(float *out, const float *x, const float *w, int n, int dim, float eps) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    if (r >= n) return;
    const float *xr = x + (long long)r * dim;
    float *o = out + (long long)r * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = basalt_block_sum(ss, scratch);
    float inv = (float)(1.0 / sqrt((double)(ss / dim + eps)));
    for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = w[i] * (inv * xr[i]);
}

// out = (x − mean) / sqrt(var + eps) · w + b, population variance, two passes (ForwardMath.layerNorm): the
// centred second pass avoids the cancellation of E[x²] − mean².
extern "C" __global__ void __launch_bounds__(256)
basalt_layernorm(float *out, const float *x, const float *w, const float *b, int n, int dim, float eps) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    if (r >= n) return;
    const float *xr = x + (long long)r * dim;
    float *o = out + (long long)r * dim;
    float s = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) s += xr[i];
    float mean = basalt_block_sum(s, scratch) / dim;
    float v = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float d = xr[i] - mean;
        v += d * d;
    }
    float var = basalt_block_sum(v, scratch) / dim;
    float rstd = (float)(1.0 / sqrt((double)(var + eps)));
    for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = (xr[i] - mean) * rstd * w[i] + b[i];
}
