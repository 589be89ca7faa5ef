// basalt_matmul: y[t][r] = Σ_c w[r][c] · x[t][c] (+ bias[r]), the decode GEMV and small-batch GEMM (kernels.abi).
//
// Launch: grid(CEIL(rows, 4), CEIL(n, 8)), block(128). Each warp owns one weight row, each block 8 token
// columns (blockIdx.y): a weight loaded once feeds every column of the block, so batches up to 8 read the
// matrix once. Decode is bandwidth-bound, hence (CUDA notes §5.1): 16-byte loads per lane, coalesced across
// the warp (512 contiguous bytes per warp load), two independent loads in flight per lane before their use,
// fp32 accumulation, one shuffle reduction per column at the end. x is small and re-read by every warp: it comes
// from L1/L2 (__ldg). The column count is a template parameter so the n = 1 decode loop carries no predicates.
#include "common.cuh"

#define MM_WARPS 4
#define MM_COLS 8

__device__ __forceinline__ float mm_dot4(float4 a, float4 b, float acc) {
    acc = fmaf(a.x, b.x, acc);
    acc = fmaf(a.y, b.y, acc);
    acc = fmaf(a.z, b.z, acc);
    return fmaf(a.w, b.w, acc);
}

// fp32 weights. Vector path when rows start 16-byte aligned (cols % 4 == 0 and aligned bases); else scalar.
template <int NT>
__device__ __forceinline__ void mm_row_f32(const float *__restrict__ wr, const float *__restrict__ x, int cols,
                                           bool vec, int lane, float (&acc)[MM_COLS]) {
    if (vec) {
        const float4 *w4 = (const float4 *)wr;
        int c4 = cols >> 2;
        int k = lane;
        for (; k + 32 < c4; k += 64) {
            float4 a = __ldg(w4 + k), b = __ldg(w4 + k + 32);   // two 16-byte loads in flight
#pragma unroll
            for (int j = 0; j < NT; j++) {
                const float4 *xj = (const float4 *)(x + (long long)j * cols);
                acc[j] = mm_dot4(b, __ldg(xj + k + 32), mm_dot4(a, __ldg(xj + k), acc[j]));
            }
        }
        if (k < c4) {
            float4 a = __ldg(w4 + k);
#pragma unroll
            for (int j = 0; j < NT; j++) acc[j] = mm_dot4(a, __ldg((const float4 *)(x + (long long)j * cols) + k), acc[j]);
        }
    } else {
        for (int c = lane; c < cols; c += 32) {
            float a = __ldg(wr + c);
#pragma unroll
            for (int j = 0; j < NT; j++) acc[j] = fmaf(a, __ldg(x + (long long)j * cols + c), acc[j]);
        }
    }
}

__device__ __forceinline__ float mm_dot8_bf16(uint4 w, const float4 *xp, float acc) {
    float4 x0 = __ldg(xp), x1 = __ldg(xp + 1);
    acc = fmaf(basalt_bf16_lo(w.x), x0.x, acc);
    acc = fmaf(basalt_bf16_hi(w.x), x0.y, acc);
    acc = fmaf(basalt_bf16_lo(w.y), x0.z, acc);
    acc = fmaf(basalt_bf16_hi(w.y), x0.w, acc);
    acc = fmaf(basalt_bf16_lo(w.z), x1.x, acc);
    acc = fmaf(basalt_bf16_hi(w.z), x1.y, acc);
    acc = fmaf(basalt_bf16_lo(w.w), x1.z, acc);
    return fmaf(basalt_bf16_hi(w.w), x1.w, acc);
}

// bf16 weights: 8 elements per 16-byte load (cols % 8 == 0 and aligned bases), else scalar.
template <int NT>
__device__ __forceinline__ void mm_row_bf16(const uint16_t *__restrict__ wr, const float *__restrict__ x, int cols,
                                            bool vec, int lane, float (&acc)[MM_COLS]) {
    if (vec) {
        const uint4 *w8 = (const uint4 *)wr;
        int c8 = cols >> 3;
        int k = lane;
        for (; k + 32 < c8; k += 64) {
            uint4 a = __ldg(w8 + k), b = __ldg(w8 + k + 32);
#pragma unroll
            for (int j = 0; j < NT; j++) {
                const float4 *xj = (const float4 *)(x + (long long)j * cols);
                acc[j] = mm_dot8_bf16(b, xj + 2 * (k + 32), mm_dot8_bf16(a, xj + 2 * k, acc[j]));
            }
        }
        if (k < c8) {
            uint4 a = __ldg(w8 + k);
#pragma unroll
            for (int j = 0; j < NT; j++) acc[j] = mm_dot8_bf16(a, (const float4 *)(x + (long long)j * cols) + 2 * k, acc[j]);
        }
    } else {
        for (int c = lane; c < cols; c += 32) {
            float a = basalt_bf16(wr[c]);
#pragma unroll
            for (int j = 0; j < NT; j++) acc[j] = fmaf(a, __ldg(x + (long long)j * cols + c), acc[j]);
        }
    }
}

template <int NT>
__device__ __forceinline__ void mm_row(const void *w, int w_bf16, long long row, const float *x, int cols, int lane,
                                       float (&acc)[MM_COLS]) {
    if (w_bf16) {
        const uint16_t *wr = (const uint16_t *)w + row * cols;
        bool vec = (cols & 7) == 0 && basalt_aligned16(w) && basalt_aligned16(x);
        mm_row_bf16<NT>(wr, x, cols, vec, lane, acc);
    } else {
        const float *wr = (const float *)w + row * cols;
        bool vec = (cols & 3) == 0 && basalt_aligned16(w) && basalt_aligned16(x);
        mm_row_f32<NT>(wr, x, cols, vec, lane, acc);
    }
}

extern "C" __global__ void __launch_bounds__(MM_WARPS * 32)
basalt_matmul(float *y, const void *w, int w_bf16, const float *x, const float *bias, int rows, int cols, int n) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * MM_WARPS + (threadIdx.x >> 5);
    int t0 = blockIdx.y * MM_COLS;
    if (row >= rows || t0 >= n) return;   // no barriers below: a warp past the last row just leaves
    int nt = min(MM_COLS, n - t0);
    const float *xb = x + (long long)t0 * cols;
    float acc[MM_COLS];
#pragma unroll
    for (int j = 0; j < MM_COLS; j++) acc[j] = 0.0f;
    switch (nt) {
        case 1: mm_row<1>(w, w_bf16, row, xb, cols, lane, acc); break;
        case 2: mm_row<2>(w, w_bf16, row, xb, cols, lane, acc); break;
        case 3: mm_row<3>(w, w_bf16, row, xb, cols, lane, acc); break;
        case 4: mm_row<4>(w, w_bf16, row, xb, cols, lane, acc); break;
        case 5: mm_row<5>(w, w_bf16, row, xb, cols, lane, acc); break;
        case 6: mm_row<6>(w, w_bf16, row, xb, cols, lane, acc); break;
        case 7: mm_row<7>(w, w_bf16, row, xb, cols, lane, acc); break;
        default: mm_row<8>(w, w_bf16, row, xb, cols, lane, acc); break;
    }
    float b = bias != nullptr ? bias[row] : 0.0f;
#pragma unroll
    for (int j = 0; j < MM_COLS; j++) {
        if (j < nt) {
            float s = basalt_warp_sum(acc[j]);
            if (lane == j) y[(long long)(t0 + j) * rows + row] = s + b;   // lanes 0..nt-1 write one column each
        }
    }
}
