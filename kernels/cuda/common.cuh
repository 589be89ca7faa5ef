// Shared helpers of the Basalt kernels (kernels.abi). Everything here is __device__ and inline: the kernels are
// built as one translation unit (all.cu), so there is no device linking.
//
// Numerics: built without --use_fast_math, so expf/sqrt/division are the IEEE-accurate versions and denormals are
// kept; the kernels must agree with the Java CPU reference (runtime-cpu ForwardMath, Attention, Mxfp4Experts) to
// 1e-4 in fp32. Where the CPU reference rounds in a particular way (double sqrt, float angle) the kernels do the same.
#pragma once

#include <stdint.h>

#define BASALT_WARP 32
#define BASALT_FULL_MASK 0xffffffffu

// bf16 → fp32: a bf16 is the high half of an fp32, so widening is a shift (exact).
__device__ __forceinline__ float basalt_bf16(uint16_t b) { return __uint_as_float((uint32_t)b << 16); }
// The two bf16 of one 32-bit word: element 2i is the low half (little-endian storage).
__device__ __forceinline__ float basalt_bf16_lo(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float basalt_bf16_hi(uint32_t w) { return __uint_as_float(w & 0xffff0000u); }

__device__ __forceinline__ float basalt_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(BASALT_FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float basalt_warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(BASALT_FULL_MASK, v, o));
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result. `scratch`
// holds 32 floats of shared memory; the trailing barrier lets the caller reuse it right away.
__device__ __forceinline__ float basalt_block_sum(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = basalt_warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    v = basalt_warp_sum(v);
    __syncthreads();
    return v;
}

// (value, index) ordering of argmax and top-k: the larger value wins, the lower index on ties (torch.topk and the
// CPU reference pick the first maximum). An empty candidate is (-inf, INT_MAX), which loses to every real one.
__device__ __forceinline__ bool basalt_better(float v, int i, float bv, int bi) {
    return v > bv || (v == bv && i < bi);
}

__device__ __forceinline__ void basalt_warp_argmax(float &v, int &i) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(BASALT_FULL_MASK, v, o);
        int oi = __shfl_xor_sync(BASALT_FULL_MASK, i, o);
        if (basalt_better(ov, oi, v, i)) { v = ov; i = oi; }
    }
}

// The 16-byte alignment the vector paths need (device allocations are 256-byte aligned; slices may not be).
__device__ __forceinline__ bool basalt_aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }
