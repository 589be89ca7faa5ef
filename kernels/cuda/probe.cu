// Bandwidth measurement for `basalt cuda check`: basalt_read_probe (kernels.abi), grid(1024), block(256).
#include "common.cuh"

// Reads the first count bytes of x (rounded down to a multiple of 16) as 16-byte words, grid-stride, so every
// load is coalesced and independent; the words are summed as unsigned 32-bit integers (wrapping) and
// out[blockIdx.x] (uint32) receives the block's sum, so the loads cannot be optimised away and a host can check
// them: Σ over the grid of out = the wrapping sum of all 32-bit words of the first 16·⌊count/16⌋ bytes.
extern "C" __global__ void __launch_bounds__(256)
basalt_read_probe(unsigned int *out, const uint4 *x, long long count) {
    __shared__ unsigned int part[32];
    long long words = count >> 4;
    long long stride = (long long)gridDim.x * blockDim.x;
    unsigned int s0 = 0, s1 = 0;
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    // Two loads in flight per iteration (bytes in flight bound the achievable bandwidth).
    for (; i + stride < words; i += 2 * stride) {
        uint4 a = __ldcs(x + i), b = __ldcs(x + i + stride);
        s0 += a.x + a.y + a.z + a.w;
        s1 += b.x + b.y + b.z + b.w;
    }
    if (i < words) {
        uint4 a = __ldcs(x + i);
        s0 += a.x + a.y + a.z + a.w;
    }
    unsigned int s = s0 + s1;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(BASALT_FULL_MASK, s, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) part[warp] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        unsigned int t = 0;
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) t += part[w];
        out[blockIdx.x] = t;
    }
}
