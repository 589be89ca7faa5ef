// Rotary embedding and the KV cache write: basalt_rope, basalt_kv_store (kernels.abi).
#include "common.cuh"

// In place on head h of row r, which starts at x + r·stride + offset + h·head_dim (q and k live inside the fused
// qkv row: stride = its width, offset = where q or k starts). Only the first rotary_dims dimensions rotate, in
// rotary_dims/2 pairs: half_split = 0 pairs (2i, 2i+1) (Meta/llama2.c), half_split = 1 pairs (i, i + rotary_dims/2)
// (Hugging Face, gpt-oss). angle = pos · inv_freq[i] in fp32; cos and sin of that fp32 angle are taken in double
// and rounded to fp32, then multiplied by mscale (YaRN's concentration, 1 otherwise): exactly Rope.apply, which
// uses (float) Math.cos((double) angle). The rotation is written with explicitly rounded products and sums
// (__fmul_rn/__fadd_rn) so nvcc does not contract it into FMAs and the result is the CPU's bit for bit.
// Launch: grid(n, heads), block(64): a thread per pair, looping when there are more than 64 pairs.
extern "C" __global__ void __launch_bounds__(64)
basalt_rope(float *x, int stride, int offset, const int *pos, const float *inv_freq, float mscale, int n, int heads,
            int head_dim, int rotary_dims, int half_split) {
    int r = blockIdx.x, h = blockIdx.y;
    if (r >= n || h >= heads) return;
    float *v = x + (long long)r * stride + offset + (long long)h * head_dim;
    float p = (float)pos[r];
    int half = rotary_dims / 2;
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        float angle = __fmul_rn(p, inv_freq[i]);
        double s, c;
        sincos((double)angle, &s, &c);
        float cs = __fmul_rn((float)c, mscale), sn = __fmul_rn((float)s, mscale);
        int a = half_split ? i : 2 * i;
        int b = half_split ? i + half : 2 * i + 1;
        float x0 = v[a], x1 = v[b];
        v[a] = __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn));
        v[b] = __fadd_rn(__fmul_rn(x1, cs), __fmul_rn(x0, sn));
    }
}

// Stores row r's key and value (kv_dim floats each, at src + r·src_stride + k_offset / v_offset: the fused qkv row)
// at KV slot slots[r] (slot = block · block_size + offset in block) of this layer's caches [slots][kv_dim].
// A negative slot is skipped (a row that stores nothing). Launch: grid(n), block(256).
extern "C" __global__ void __launch_bounds__(256)
basalt_kv_store(float *k_cache, float *v_cache, const float *src, int src_stride, int k_offset, int v_offset,
                const int *slots, int n, int kv_dim) {
    int r = blockIdx.x;
    if (r >= n) return;
    int slot = slots[r];
    if (slot < 0) return;
    const float *row = src + (long long)r * src_stride;
    float *kd = k_cache + (long long)slot * kv_dim;
    float *vd = v_cache + (long long)slot * kv_dim;
    for (int i = threadIdx.x; i < kv_dim; i += blockDim.x) {
        kd[i] = row[k_offset + i];
        vd[i] = row[v_offset + i];
    }
}
