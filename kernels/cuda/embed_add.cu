// Row copies and element-wise adds: basalt_embed, basalt_add, basalt_gather (kernels.abi).
#include "common.cuh"

// out[r][i] = table[ids[r]][i]: one block per token row. The table is fp32 or bf16 (table_bf16 = 1); ids are
// checked against the vocabulary by the host before the step (the kernel has no vocabulary size).
extern "C" __global__ void __launch_bounds__(256)
basalt_embed(float *out, const void *table, int table_bf16, const int *ids, int n, int dim) {
    int r = blockIdx.x;
    if (r >= n) return;
    long long base = (long long)ids[r] * dim;
    float *o = out + (long long)r * dim;
    if (table_bf16) {
        const uint16_t *t = (const uint16_t *)table + base;
        for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = basalt_bf16(t[i]);
    } else {
        const float *t = (const float *)table + base;
        for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = t[i];
    }
}

// x[i] += y[i] for i < count (the residual add).
extern "C" __global__ void __launch_bounds__(256)
basalt_add(float *x, const float *y, long long count) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) x[i] += y[i];
}

// out[i][c] = x[rows[i]][c]: the rows that need logits, packed before the final norm and head.
extern "C" __global__ void __launch_bounds__(256)
basalt_gather(float *out, const float *x, const int *rows, int n, int dim) {
    int i = blockIdx.x;
    if (i >= n) return;
    const float *src = x + (long long)rows[i] * dim;
    float *dst = out + (long long)i * dim;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) dst[c] = src[c];
}
