// Paged causal attention with GQA, sliding windows and sinks: basalt_attention, basalt_attention_split,
// basalt_attention_reduce (kernels.abi). The math is Attention.attend of the CPU backend, tile for tile.
//
// One CTA per (row, kv_head) handles every query head of the group (heads / kv_heads of them), so each key and
// value of the group is read from memory once (CUDA notes §5.3, GQA). Keys are taken in tiles of 32 positions, the
// CPU's TILE: a tile's keys and values are staged in shared memory, the group's scores computed, each head's
// running maximum raised once per tile (online softmax: sum and accumulator rescaled by exp(m_old − m_new)), and the
// tile's values accumulated with weights exp(s − m). The row's position comes from device memory (row_pos), so one
// captured graph serves every context length; the positions attended are [first, pos] with
// first = window > 0 ? max(0, pos − window + 1) : 0 (sliding window: the window counts the query itself).
// A sink (gpt-oss: one learned logit per query head) joins the softmax's maximum and denominator but carries no
// value: the running maximum starts at the sink and the running sum at 1 = exp(sink − sink).
//
// Limits (static shared memory, no dynamic shared bytes in the ABI): head_dim ≤ 128, (heads / kv_heads) ·
// head_dim ≤ 1024, heads / kv_heads ≤ 32. The host rejects other shapes; the kernels write nothing for them.
// Memory layouts: q row r, head h at q + r·q_stride + q_offset + h·head_dim; KV cache [slots][kv_heads·head_dim],
// slot of position p = block_tables[row_seq[r]·max_blocks + p / block_size] · block_size + p % block_size;
// out [n][heads·head_dim].
#include "common.cuh"
#include <math_constants.h>

#define ATT_THREADS 128
#define ATT_WARPS (ATT_THREADS / 32)
#define ATT_TILE 32                       // = the warp size: one lane per position in the softmax step
#define ATT_MAX_HD 128
#define ATT_MAX_GROUP_DIM 1024
#define ATT_MAX_GROUP 32
#define ATT_ACC (ATT_MAX_GROUP_DIM / ATT_THREADS)   // accumulator registers per thread

// 16-byte aligned: the V tile is stored with float4 writes.
struct __align__(16) AttSmem {
    float q[ATT_MAX_GROUP_DIM];                 // the group's query heads
    float k[ATT_TILE][ATT_MAX_HD + 1];          // +1: lanes reading k[t][d] for 32 positions hit 32 banks
    float v[ATT_TILE][ATT_MAX_HD];
    float p[ATT_MAX_GROUP][ATT_TILE];           // scores, then weights exp(s − m)
    float m[ATT_MAX_GROUP], l[ATT_MAX_GROUP], c[ATT_MAX_GROUP];   // running max, running sum, this tile's rescale
    int slot[ATT_TILE];
};

__device__ __forceinline__ bool att_shape_ok(int heads, int kv_heads, int hd) {
    if (kv_heads <= 0 || heads % kv_heads != 0 || hd <= 0 || hd > ATT_MAX_HD) return false;
    int group = heads / kv_heads;
    return group <= ATT_MAX_GROUP && group * hd <= ATT_MAX_GROUP_DIM;
}

// Attention of the group's heads over positions [first, last] (an empty range leaves m = −inf or the sink, l = 0 or
// 1, acc = 0). Thread tid owns accumulator elements idx = tid + k·128 (head idx / hd, dimension idx % hd).
// sinks: the group's first head's sink, or null.
__device__ __forceinline__ void att_core(AttSmem &s, const float *__restrict__ q, const float *__restrict__ k_cache,
                                         const float *__restrict__ v_cache, const int *__restrict__ table,
                                         int block_size, int kv_dim, int kv_off, int group, int hd, float scale,
                                         int first, int last, const float *sinks, float (&acc)[ATT_ACC]) {
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int gd = group * hd;
    for (int i = tid; i < gd; i += ATT_THREADS) s.q[i] = q[i];
    for (int j = tid; j < group; j += ATT_THREADS) {
        s.m[j] = sinks != nullptr ? sinks[j] : -CUDART_INF_F;
        s.l[j] = sinks != nullptr ? 1.0f : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < ATT_ACC; k++) acc[k] = 0.0f;
    // 16-byte loads of K/V rows when they are 16-byte aligned (head_dim % 4 == 0: kv_dim and kv_off follow).
    bool vec = (hd & 3) == 0 && basalt_aligned16(k_cache) && basalt_aligned16(v_cache);
    __syncthreads();
    for (int t0 = first; t0 <= last; t0 += ATT_TILE) {
        int cnt = min(ATT_TILE, last - t0 + 1);
        if (tid < cnt) {
            int p = t0 + tid;
            s.slot[tid] = table[p / block_size] * block_size + p % block_size;
        }
        __syncthreads();
        if (vec) {
            int q4 = hd >> 2;
            for (int i = tid; i < cnt * q4; i += ATT_THREADS) {
                int t = i / q4, d = (i - t * q4) * 4;
                long long at = (long long)s.slot[t] * kv_dim + kv_off + d;
                float4 kk = __ldg((const float4 *)(k_cache + at));
                float4 vv = __ldg((const float4 *)(v_cache + at));
                s.k[t][d] = kk.x; s.k[t][d + 1] = kk.y; s.k[t][d + 2] = kk.z; s.k[t][d + 3] = kk.w;
                *(float4 *)&s.v[t][d] = vv;
            }
        } else {
            for (int i = tid; i < cnt * hd; i += ATT_THREADS) {
                int t = i / hd, d = i - t * hd;
                long long at = (long long)s.slot[t] * kv_dim + kv_off + d;
                s.k[t][d] = __ldg(k_cache + at);
                s.v[t][d] = __ldg(v_cache + at);
            }
        }
        __syncthreads();
        // Scores: a warp takes one head and 32 positions (lane = position); q is a broadcast read.
        for (int i = tid; i < group * ATT_TILE; i += ATT_THREADS) {
            int j = i / ATT_TILE, t = i % ATT_TILE;
            float sc = -CUDART_INF_F;                 // positions past the range take no weight
            if (t < cnt) {
                const float *qj = s.q + j * hd;
                float a = 0.0f;
#pragma unroll 4
                for (int d = 0; d < hd; d++) a = fmaf(qj[d], s.k[t][d], a);
                sc = a * scale;                       // (q·k)·scale, as the CPU reference
            }
            s.p[j][t] = sc;
        }
        __syncthreads();
        // Online softmax step, a warp per head: raise the maximum once for the tile, rescale by c.
        for (int j = warp; j < group; j += ATT_WARPS) {
            float sc = s.p[j][lane];
            float mo = s.m[j];
            float mn = fmaxf(mo, basalt_warp_max(sc));
            // c = 1 exactly when the maximum did not grow; 0 when nothing was seen yet (mo = −inf).
            float c = mn == -CUDART_INF_F ? 1.0f : expf(mo - mn);
            float e = sc == -CUDART_INF_F ? 0.0f : expf(sc - mn);
            float sum = basalt_warp_sum(e);
            s.p[j][lane] = e;
            if (lane == 0) {
                s.m[j] = mn;
                s.l[j] = s.l[j] * c + sum;
                s.c[j] = c;
            }
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < ATT_ACC; k++) {
            int idx = tid + k * ATT_THREADS;
            if (idx < gd) {
                int j = idx / hd, d = idx - j * hd;
                float a = acc[k] * s.c[j];
                for (int t = 0; t < cnt; t++) a = fmaf(s.p[j][t], s.v[t][d], a);
                acc[k] = a;
            }
        }
        __syncthreads();   // the next tile overwrites slot, k, v and p
    }
}

extern "C" __global__ void __launch_bounds__(ATT_THREADS)
basalt_attention(float *out, const float *q, int q_stride, int q_offset, const float *k_cache, const float *v_cache,
                 const int *block_tables, int max_blocks, const int *row_seq, const int *row_pos, int n, int heads,
                 int kv_heads, int head_dim, int block_size, float scale, int window, const float *sinks) {
    __shared__ AttSmem s;
    int r = blockIdx.x, g = blockIdx.y;
    if (r >= n || g >= kv_heads || !att_shape_ok(heads, kv_heads, head_dim)) return;
    int group = heads / kv_heads, hd = head_dim, gd = group * hd;
    int pos = row_pos[r];
    int first = window > 0 ? max(0, pos - window + 1) : 0;
    const int *table = block_tables + (long long)row_seq[r] * max_blocks;
    const float *qr = q + (long long)r * q_stride + q_offset + (long long)g * gd;
    float acc[ATT_ACC];
    att_core(s, qr, k_cache, v_cache, table, block_size, kv_heads * hd, g * hd, group, hd, scale, first, pos,
             sinks != nullptr ? sinks + g * group : nullptr, acc);
    float *o = out + (long long)r * heads * hd + (long long)g * gd;
#pragma unroll
    for (int k = 0; k < ATT_ACC; k++) {
        int idx = threadIdx.x + k * ATT_THREADS;
        if (idx < gd) {
            float l = s.l[idx / hd];
            // acc · (1/l) as the CPU; nothing attended and no sink (l = 0) gives zeros, not 0/0.
            o[idx] = acc[k] * (l > 0.0f ? 1.0f / l : 0.0f);
        }
    }
}

// Split-KV (flash-decoding) first pass: split z of grid(n, kv_heads, splits) takes positions
// [first + z·split_len, min(pos, first + (z+1)·split_len − 1)] (splits counted from the row's first attended
// position, so a window's splits are as even as a full context's); splits past the context are empty. Per
// (row, head h, split z), unnormalised and without sinks:
//   part_acc[((r·heads + h)·splits + z)·head_dim + d] = Σ_t exp(s_t − m)·v_t[d]
//   part_ml [((r·heads + h)·splits + z)·2 + 0] = m (the split's max score, −inf when empty)
//   part_ml [((r·heads + h)·splits + z)·2 + 1] = l = Σ_t exp(s_t − m) (0 when empty)
extern "C" __global__ void __launch_bounds__(ATT_THREADS)
basalt_attention_split(float *part_acc, float *part_ml, const float *q, int q_stride, int q_offset,
                       const float *k_cache, const float *v_cache, const int *block_tables, int max_blocks,
                       const int *row_seq, const int *row_pos, int n, int heads, int kv_heads, int head_dim,
                       int block_size, float scale, int window, int splits, int split_len) {
    __shared__ AttSmem s;
    int r = blockIdx.x, g = blockIdx.y, z = blockIdx.z;
    if (r >= n || g >= kv_heads || z >= splits || !att_shape_ok(heads, kv_heads, head_dim)) return;
    int group = heads / kv_heads, hd = head_dim, gd = group * hd;
    int pos = row_pos[r];
    int first = window > 0 ? max(0, pos - window + 1) : 0;
    long long lo = (long long)first + (long long)z * split_len;
    long long hi = min((long long)pos, lo + split_len - 1);
    int sfirst = lo > pos ? pos + 1 : (int)lo;      // empty when the split starts past the query
    int slast = lo > pos ? pos : (int)hi;
    const int *table = block_tables + (long long)row_seq[r] * max_blocks;
    const float *qr = q + (long long)r * q_stride + q_offset + (long long)g * gd;
    float acc[ATT_ACC];
    att_core(s, qr, k_cache, v_cache, table, block_size, kv_heads * hd, g * hd, group, hd, scale, sfirst, slast,
             nullptr, acc);
    long long h0 = (long long)r * heads + (long long)g * group;   // (row, first head of the group)
#pragma unroll
    for (int k = 0; k < ATT_ACC; k++) {
        int idx = threadIdx.x + k * ATT_THREADS;
        if (idx < gd) {
            int j = idx / hd, d = idx - j * hd;
            part_acc[((h0 + j) * splits + z) * hd + d] = acc[k];
        }
    }
    for (int j = threadIdx.x; j < group; j += ATT_THREADS) {
        part_ml[((h0 + j) * splits + z) * 2] = s.m[j];
        part_ml[((h0 + j) * splits + z) * 2 + 1] = s.l[j];
    }
}

// Split-KV second pass, grid(n, heads): M = max(max_z m_z, sink), L = Σ_z l_z·exp(m_z − M) + exp(sink − M),
// out = Σ_z acc_z·exp(m_z − M) · (1/L). The sink enters once, here, never per split. Empty splits (m = −inf) add
// nothing; L = 0 (no positions, no sink) gives zeros.
extern "C" __global__ void __launch_bounds__(ATT_THREADS)
basalt_attention_reduce(float *out, const float *part_acc, const float *part_ml, int n, int heads, int head_dim,
                        int splits, const float *sinks) {
    int r = blockIdx.x, h = blockIdx.y;
    if (r >= n || h >= heads) return;
    long long base = ((long long)r * heads + h) * splits;
    const float *ml = part_ml + base * 2;
    float M = sinks != nullptr ? sinks[h] : -CUDART_INF_F;
    for (int z = 0; z < splits; z++) M = fmaxf(M, ml[2 * z]);
    float L = sinks != nullptr ? expf(sinks[h] - M) : 0.0f;
    for (int z = 0; z < splits; z++) {
        float m = ml[2 * z];
        if (m != -CUDART_INF_F) L += ml[2 * z + 1] * expf(m - M);
    }
    float inv = L > 0.0f ? 1.0f / L : 0.0f;
    const float *acc = part_acc + base * head_dim;
    float *o = out + ((long long)r * heads + h) * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float a = 0.0f;
        for (int z = 0; z < splits; z++) {
            float m = ml[2 * z];
            if (m != -CUDART_INF_F) a = fmaf(acc[(long long)z * head_dim + d], expf(m - M), a);
        }
        o[d] = a * inv;
    }
}
