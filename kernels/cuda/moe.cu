// gpt-oss mixture of experts: basalt_moe_topk, basalt_mxfp4_matmul, basalt_moe_combine (kernels.abi).
#include "common.cuh"
#include <math_constants.h>

// Router selection, grid(n), block(32): one warp per token. ids[r][j] / weights[r][j] (j < k) = the k largest
// router logits (bias already added) in descending order, the lower expert index first on ties (torch.topk,
// GptOss.topK), and the softmax over those k logits only (ForwardMath.softmax: max, exp(x − max) summed in order j,
// then x / sum). Lane l owns experts l, l + 32, …; a bit per owned expert marks the chosen ones (experts ≤ 2048).
extern "C" __global__ void __launch_bounds__(32)
basalt_moe_topk(int *ids, float *weights, const float *logits, int n, int experts, int k) {
    int r = blockIdx.x, lane = threadIdx.x;
    if (r >= n || experts > 2048) return;
    const float *row = logits + (long long)r * experts;
    int *rid = ids + (long long)r * k;
    float *rw = weights + (long long)r * k;
    unsigned long long taken = 0;
    for (int j = 0; j < k; j++) {
        float bv = -CUDART_INF_F;
        int bi = 0x7fffffff;
        for (int e = lane, b = 0; e < experts; e += 32, b++) {
            if ((taken >> b) & 1ull) continue;
            float v = row[e];
            if (basalt_better(v, e, bv, bi)) { bv = v; bi = e; }
        }
        basalt_warp_argmax(bv, bi);
        if (bi != 0x7fffffff && (bi & 31) == lane) taken |= 1ull << (bi >> 5);
        if (lane == 0) {
            rid[j] = bi == 0x7fffffff ? 0 : bi;
            rw[j] = bv;
        }
    }
    if (lane == 0) {
        // The values were written by this thread: no barrier needed to read them back.
        float mx = -CUDART_INF_F;
        for (int j = 0; j < k; j++) mx = fmaxf(mx, rw[j]);
        float sum = 0.0f;
        for (int j = 0; j < k; j++) {
            float e = expf(rw[j] - mx);
            rw[j] = e;
            sum += e;
        }
        for (int j = 0; j < k; j++) rw[j] = rw[j] / sum;
    }
}

// E2M1 code → fp32 without a table: the magnitude bits (c & 7) shifted to bit 22 are, read as fp32 bits, exactly the
// value · 2^-126 for all eight codes (codes 2..7 become normal numbers with exponent (c >> 1) − 127 and mantissa bit
// c & 1; code 1 the subnormal 0.5·2^-126; code 0 zero), and bit 3 is the sign. One exact multiply by 2^126 restores
// the value (denormals are kept: no fast math), so the FMA below sees the true element.
__device__ __forceinline__ float mx_fp4(uint32_t word, int shift) {
    uint32_t c = word >> shift;
    uint32_t bits = ((c & 7u) << 22) | ((c & 8u) << 28);
    return __uint_as_float(bits) * 0x1p126f;
}

// E8M0 scale byte → 2^(e − 127), as Math.scalb(1f, e − 127) in the CPU reference: e = 0 is the subnormal 2^-127,
// e = 255 is +inf (the reference has no NaN case).
__device__ __forceinline__ float mx_scale(uint32_t e) {
    return e == 0 ? __uint_as_float(0x00400000u) : __uint_as_float(e << 23);
}

// One 32-element block: 16 bytes, element 2j = low nibble of byte j, 2j + 1 = high nibble (little-endian words:
// byte j of the block is bits 8(j % 4) … of word j / 4). x points at the block's 32 activations.
__device__ __forceinline__ float mx_block_dot(uint4 q, const float *__restrict__ x) {
    const float4 *x4 = (const float4 *)x;
    uint32_t w[4] = {q.x, q.y, q.z, q.w};
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float4 a = __ldg(x4 + 2 * i), b = __ldg(x4 + 2 * i + 1);   // elements 8i … 8i + 7
        s = fmaf(mx_fp4(w[i], 0), a.x, s);
        s = fmaf(mx_fp4(w[i], 4), a.y, s);
        s = fmaf(mx_fp4(w[i], 8), a.z, s);
        s = fmaf(mx_fp4(w[i], 12), a.w, s);
        s = fmaf(mx_fp4(w[i], 16), b.x, s);
        s = fmaf(mx_fp4(w[i], 20), b.y, s);
        s = fmaf(mx_fp4(w[i], 24), b.z, s);
        s = fmaf(mx_fp4(w[i], 28), b.w, s);
    }
    return s;
}

// Expert GEMV on MXFP4 weights, never dequantized to memory: grid(CEIL(rows, 4), n·k), block(128).
// blockIdx.y = slot j = token t·k + choice; the expert is expert_ids[j] (moe_topk's ids, [n][k]).
//   x row of slot j: x + (x_per_slot ? j : t)·cols (the up projection reads the token's normed row, the down
//   projection the slot's own activations)
//   y[j][r] = Σ_b scale(e, r, b) · Σ_{i<32} fp4(e, r, 32b + i)·x[32b + i] + (bias ? bias[e·rows + r] : 0)
// blocks [experts][rows][cols/32][16] u8, scales [experts][rows][cols/32] u8 (the checkpoint's split layout),
// cols % 32 == 0. A warp per row, a lane per 32-element block: one 16-byte load of nibbles + one scale byte per
// lane, 512 contiguous bytes per warp load; the per-block sum is scaled once as the CPU does (sum += s·scale).
extern "C" __global__ void __launch_bounds__(128)
basalt_mxfp4_matmul(float *y, const uint8_t *blocks, const uint8_t *scales, const float *bias, const float *x,
                    int x_per_slot, const int *expert_ids, int n, int k, int rows, int cols) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    int slot = blockIdx.y;
    if (row >= rows || slot >= n * k) return;   // no barriers below
    int e = expert_ids[slot];
    int t = slot / k;
    int nb = cols >> 5;
    const float *xr = x + (long long)(x_per_slot ? slot : t) * cols;
    long long b0 = ((long long)e * rows + row) * nb;
    const uint4 *qb = (const uint4 *)(blocks + b0 * 16);
    const uint8_t *sb = scales + b0;
    float sum = 0.0f;
    int b = lane;
    for (; b + 32 < nb; b += 64) {      // two blocks in flight per lane
        uint4 qa = __ldg(qb + b), qc = __ldg(qb + b + 32);
        float sa = mx_scale(__ldg(sb + b)), sc = mx_scale(__ldg(sb + b + 32));
        sum += mx_block_dot(qa, xr + 32 * b) * sa;
        sum += mx_block_dot(qc, xr + 32 * (b + 32)) * sc;
    }
    if (b < nb) sum += mx_block_dot(__ldg(qb + b), xr + 32 * b) * mx_scale(__ldg(sb + b));
    sum = basalt_warp_sum(sum);
    if (lane == 0) y[(long long)slot * rows + row] = sum + (bias != nullptr ? bias[(long long)e * rows + row] : 0.0f);
}

// out[t][i] += Σ_j weights[t][j] · y[t·k + j][i], j in order (the CPU adds each expert's weighted output to the
// residual in turn). grid(n), block(256).
extern "C" __global__ void __launch_bounds__(256)
basalt_moe_combine(float *out, const float *y, const float *weights, int n, int k, int dim) {
    int t = blockIdx.x;
    if (t >= n) return;
    float *o = out + (long long)t * dim;
    const float *w = weights + (long long)t * k;
    const float *yt = y + (long long)t * k * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float acc = o[i];
        for (int j = 0; j < k; j++) acc += w[j] * yt[(long long)j * dim + i];
        o[i] = acc;
    }
}
