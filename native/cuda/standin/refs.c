/*
 * C references of every kernel of kernels/cuda/kernels.abi (fp32 math, the semantics of the Java CPU kernels:
 * ForwardMath, Attention, Mxfp4Experts, model.layout.Rope, GptOss), each exported as basalt_ref_<name> with the ABI's
 * parameters (pointers as host pointers) and dispatched by name from cuLaunchKernel.
 *
 * Decisions the ABI line leaves open (docs/CUDA.md §4 repeats them; the .cu kernels implement the same):
 *  - index arrays (ids, pos, slots, block_tables, row_seq, row_pos, expert_ids, rows, argmax out) are int32.
 *  - embed: out[i] = table[ids[i]] (bf16 widened); an id < 0 writes a zero row (no range check beyond that).
 *  - add: x[i] += y[i]. gelu: in place. swiglu: out[i] = silu(gate[i]) * up[i].
 *  - matmul: y[j][r] = sum_c w[r][c] * x[j][c] (+ bias[r]); y [n][rows], x [n][cols].
 *  - rope: in place on x[i*stride + offset + h*head_dim + ...], heads consecutive; pos[i]; inv_freq[rotary_dims/2];
 *    cos and sin multiplied by mscale; half_split = 1 pairs (j, j + rotary_dims/2), 0 pairs (2j, 2j+1).
 *  - kv_store: slot = slots[i] (a slot < 0 is skipped); k_cache[slot*kv_dim + d] = src[i*src_stride + k_offset + d],
 *    v_cache likewise from v_offset.
 *  - attention: q of row i at q[i*q_stride + q_offset + h*head_dim]; out [n][heads*head_dim]; row i attends its
 *    sequence s = row_seq[i] at positions [first, pos], pos = row_pos[i], first = window > 0 ? max(0, pos-window+1)
 *    : 0; position p lives at slot block_tables[s*max_blocks + p/block_size]*block_size + p%block_size; query head h
 *    reads KV head h / (heads/kv_heads). sinks[heads] (opt) join the softmax's max and denominator only. Nothing
 *    attended (and no sink) gives zeros.
 *  - attention_split: split j of a row covers the attended positions [first + j*split_len,
 *    min(first + (j+1)*split_len, pos+1)). Partials: part_acc [n][heads][splits][head_dim] = sum_p exp(s_p - m) v_p
 *    (unnormalised), part_ml [n][heads][splits][2] = (m = max score of the split, l = sum_p exp(s_p - m)); an empty
 *    split writes m = -inf, l = 0, acc = 0.
 *  - attention_reduce: M = max(m_j over splits with l_j > 0, sink); L = sum_j l_j exp(m_j - M) + exp(sink - M);
 *    out[i][h] = sum_j acc_j exp(m_j - M) / L (zeros when L = 0). out [n][heads*head_dim].
 *  - swiglu_oss: gate_up [n][2*ff] interleaved, glu = gate_up[2j] (min limit), lin = gate_up[2j+1] (clamp +-limit),
 *    out [n][ff] = glu * sigmoid(1.702 glu) * (lin + 1).
 *  - moe_topk: ids/weights [n][k], top-k by logit descending, ties -> lower expert id, weights = softmax over the k.
 *  - mxfp4_matmul: slot t = i*k + j of y [n*k][rows]; e = expert_ids[t]; input row x[t] when x_per_slot else x[i]
 *    (x [n*k][cols] or [n][cols]); y[t][r] = sum over row r of expert e (+ bias[e*rows + r], bias [E][rows]);
 *    blocks [E][rows][cols/32][16] (low nibble = even element), scales [E][rows][cols/32] E8M0.
 *  - moe_combine: out[i][d] = sum_j weights[i*k+j] * y[(i*k+j)][d] (overwrites; the residual add is basalt_add).
 *  - to_bf16: out (uint16 [count]) = x rounded to bf16, nearest even; a NaN keeps its sign and high payload bits with
 *    the quiet bit set (WeightConversion.floatToBf16, the stand-in cuBLASLt's bf16 store).
 *  - gather: out[i] = x[rows[i]] (dim floats). argmax: out[i] = lowest index of the row's maximum (int32).
 *  - read_probe: out is uint32[1024]; thread t of block b (g = b*256 + t) reads the 16-byte chunks g, g + 1024*256,
 *    ... below count/16 (a tail of count % 16 bytes is not read); out[b] = XOR of every 32-bit word its threads read
 *    (order-free, so any reduction order gives the same value).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "standin.h"

#define REF(name) EXPORT void basalt_ref_##name

static inline float bf16(uint16_t b) {
    uint32_t u = (uint32_t) b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float wval(const void *w, int bf, size_t i) {
    return bf ? bf16(((const uint16_t *) w)[i]) : ((const float *) w)[i];
}

static inline float sigmoidf_(float v) { return 1.0f / (1.0f + expf(-v)); }

REF(embed)(float *out, const void *table, int table_bf16, const int32_t *ids, int n, int dim) {
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t) i * dim;
        if (ids[i] < 0) { memset(o, 0, sizeof(float) * (size_t) dim); continue; }
        size_t base = (size_t) ids[i] * dim;
        for (int d = 0; d < dim; d++) o[d] = wval(table, table_bf16, base + d);
    }
}

REF(add)(float *x, const float *y, int64_t count) {
    for (int64_t i = 0; i < count; i++) x[i] += y[i];
}

REF(rmsnorm)(float *out, const float *x, const float *w, int n, int dim, float eps) {
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t) i * dim;
        float *o = out + (size_t) i * dim;
        float ss = 0.0f;
        for (int d = 0; d < dim; d++) ss += xi[d] * xi[d];
        float inv = 1.0f / sqrtf(ss / dim + eps);
        for (int d = 0; d < dim; d++) o[d] = w[d] * (inv * xi[d]);
    }
}

REF(layernorm)(float *out, const float *x, const float *w, const float *b, int n, int dim, float eps) {
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t) i * dim;
        float *o = out + (size_t) i * dim;
        float mean = 0.0f;
        for (int d = 0; d < dim; d++) mean += xi[d];
        mean /= dim;
        float var = 0.0f;
        for (int d = 0; d < dim; d++) { float t = xi[d] - mean; var += t * t; }
        var /= dim;
        float rstd = 1.0f / sqrtf(var + eps);
        for (int d = 0; d < dim; d++) o[d] = (xi[d] - mean) * rstd * w[d] + b[d];
    }
}

REF(matmul)(float *y, const void *w, int w_bf16, const float *x, const float *bias, int rows, int cols, int n) {
    for (int j = 0; j < n; j++) {
        const float *xj = x + (size_t) j * cols;
        for (int r = 0; r < rows; r++) {
            size_t base = (size_t) r * cols;
            float s = 0.0f;
            if (w_bf16) {
                const uint16_t *wr = (const uint16_t *) w + base;
                for (int c = 0; c < cols; c++) s += bf16(wr[c]) * xj[c];
            } else {
                const float *wr = (const float *) w + base;
                for (int c = 0; c < cols; c++) s += wr[c] * xj[c];
            }
            y[(size_t) j * rows + r] = bias ? s + bias[r] : s;
        }
    }
}

REF(rope)(float *x, int stride, int offset, const int32_t *pos, const float *inv_freq, float mscale, int n, int heads,
          int head_dim, int rotary_dims, int half_split) {
    int half = rotary_dims / 2;
    for (int i = 0; i < n; i++) {
        float *row = x + (size_t) i * stride + offset;
        for (int j = 0; j < half; j++) {
            float angle = (float) pos[i] * inv_freq[j];
            float c = cosf(angle) * mscale, s = sinf(angle) * mscale;
            for (int h = 0; h < heads; h++) {
                int base = h * head_dim;
                int a = half_split ? base + j : base + 2 * j;
                int b = half_split ? base + j + half : a + 1;
                float x0 = row[a], x1 = row[b];
                row[a] = x0 * c - x1 * s;
                row[b] = x1 * c + x0 * s;
            }
        }
    }
}

REF(kv_store)(float *k_cache, float *v_cache, const float *src, int src_stride, int k_offset, int v_offset,
              const int32_t *slots, int n, int kv_dim) {
    for (int i = 0; i < n; i++) {
        if (slots[i] < 0) continue;
        size_t at = (size_t) slots[i] * kv_dim;
        const float *row = src + (size_t) i * src_stride;
        memcpy(k_cache + at, row + k_offset, sizeof(float) * (size_t) kv_dim);
        memcpy(v_cache + at, row + v_offset, sizeof(float) * (size_t) kv_dim);
    }
}

static inline int first_attended(int pos, int window) {
    return window > 0 ? (pos - window + 1 > 0 ? pos - window + 1 : 0) : 0;
}

/*
 * One query head over positions [lo, hi): m = max score (-inf if none), l = sum exp(s - m), acc = sum exp(s - m) v.
 * With has_sink the sink logit joins m and l (it carries no value).
 */
static void attend_range(const float *q, const float *k_cache, const float *v_cache, const int32_t *table,
                         int block_size, int kv_dim, int kv_off, int head_dim, float scale, int lo, int hi,
                         int has_sink, float sink, float *m_out, float *l_out, float *acc) {
    int len = hi > lo ? hi - lo : 0;
    float *sc = malloc(sizeof(float) * (size_t) (len > 0 ? len : 1));
    size_t *off = malloc(sizeof(size_t) * (size_t) (len > 0 ? len : 1));
    float m = has_sink ? sink : -INFINITY;
    for (int t = 0; t < len; t++) {
        int p = lo + t;
        size_t slot = (size_t) table[p / block_size] * block_size + p % block_size;
        off[t] = slot * kv_dim + kv_off;
        const float *kk = k_cache + off[t];
        float s = 0.0f;
        for (int d = 0; d < head_dim; d++) s += q[d] * kk[d];
        sc[t] = s * scale;
        if (sc[t] > m) m = sc[t];
    }
    float l = has_sink ? expf(sink - m) : 0.0f;
    for (int d = 0; d < head_dim; d++) acc[d] = 0.0f;
    for (int t = 0; t < len; t++) {
        float w = expf(sc[t] - m);
        l += w;
        const float *vv = v_cache + off[t];
        for (int d = 0; d < head_dim; d++) acc[d] += w * vv[d];
    }
    *m_out = m;
    *l_out = l;
    free(sc);
    free(off);
}

REF(attention)(float *out, const float *q, int q_stride, int q_offset, const float *k_cache, const float *v_cache,
               const int32_t *block_tables, int max_blocks, const int32_t *row_seq, const int32_t *row_pos, int n,
               int heads, int kv_heads, int head_dim, int block_size, float scale, int window, const float *sinks) {
    int group = heads / kv_heads, kv_dim = kv_heads * head_dim;
    for (int i = 0; i < n; i++) {
        int pos = row_pos[i];
        const int32_t *table = block_tables + (size_t) row_seq[i] * max_blocks;
        for (int h = 0; h < heads; h++) {
            float m, l;
            float *o = out + ((size_t) i * heads + h) * head_dim;
            attend_range(q + (size_t) i * q_stride + q_offset + (size_t) h * head_dim, k_cache, v_cache, table,
                         block_size, kv_dim, (h / group) * head_dim, head_dim, scale, first_attended(pos, window),
                         pos + 1, sinks != NULL, sinks ? sinks[h] : 0.0f, &m, &l, o);
            float inv = l > 0.0f ? 1.0f / l : 0.0f;
            for (int d = 0; d < head_dim; d++) o[d] *= inv;
        }
    }
}

REF(attention_split)(float *part_acc, float *part_ml, const float *q, int q_stride, int q_offset,
                     const float *k_cache, const float *v_cache, const int32_t *block_tables, int max_blocks,
                     const int32_t *row_seq, const int32_t *row_pos, int n, int heads, int kv_heads, int head_dim,
                     int block_size, float scale, int window, int splits, int split_len) {
    int group = heads / kv_heads, kv_dim = kv_heads * head_dim;
    for (int i = 0; i < n; i++) {
        int pos = row_pos[i], first = first_attended(pos, window);
        const int32_t *table = block_tables + (size_t) row_seq[i] * max_blocks;
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < splits; j++) {
                size_t at = ((size_t) i * heads + h) * splits + j;
                long lo = (long) first + (long) j * split_len, hi = lo + split_len;
                if (hi > pos + 1) hi = pos + 1;
                if (lo > hi) lo = hi;
                attend_range(q + (size_t) i * q_stride + q_offset + (size_t) h * head_dim, k_cache, v_cache, table,
                             block_size, kv_dim, (h / group) * head_dim, head_dim, scale, (int) lo, (int) hi, 0, 0.0f,
                             &part_ml[at * 2], &part_ml[at * 2 + 1], part_acc + at * head_dim);
            }
        }
    }
}

REF(attention_reduce)(float *out, const float *part_acc, const float *part_ml, int n, int heads, int head_dim,
                      int splits, const float *sinks) {
    for (int i = 0; i < n; i++) {
        for (int h = 0; h < heads; h++) {
            size_t base = ((size_t) i * heads + h) * splits;
            float mx = sinks ? sinks[h] : -INFINITY;
            for (int j = 0; j < splits; j++) {
                if (part_ml[(base + j) * 2 + 1] > 0.0f && part_ml[(base + j) * 2] > mx) mx = part_ml[(base + j) * 2];
            }
            float sum = sinks ? expf(sinks[h] - mx) : 0.0f;
            float *o = out + ((size_t) i * heads + h) * head_dim;
            for (int d = 0; d < head_dim; d++) o[d] = 0.0f;
            for (int j = 0; j < splits; j++) {
                float l = part_ml[(base + j) * 2 + 1];
                if (!(l > 0.0f)) continue;
                float c = expf(part_ml[(base + j) * 2] - mx);
                sum += l * c;
                const float *a = part_acc + (base + j) * head_dim;
                for (int d = 0; d < head_dim; d++) o[d] += a[d] * c;
            }
            float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
            for (int d = 0; d < head_dim; d++) o[d] *= inv;
        }
    }
}

REF(gelu)(float *x, int64_t count) {
    const float s = (float) sqrt(2.0 / 3.14159265358979323846);
    for (int64_t i = 0; i < count; i++) {
        float v = x[i];
        float u = s * (v + 0.044715f * v * v * v);
        x[i] = v / (1.0f + expf(-2.0f * u));
    }
}

REF(swiglu)(float *out, const float *gate, const float *up, int64_t count) {
    for (int64_t i = 0; i < count; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

REF(to_bf16)(uint16_t *out, const float *x, int64_t count) {
    for (int64_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        if ((u & 0x7fffffffu) > 0x7f800000u) out[i] = (uint16_t) ((u >> 16) | 0x0040u); /* NaN stays NaN */
        else out[i] = (uint16_t) ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);           /* nearest even */
    }
}

REF(swiglu_oss)(float *out, const float *gate_up, int n, int ff, float limit) {
    for (int i = 0; i < n; i++) {
        const float *gu = gate_up + (size_t) i * 2 * ff;
        for (int j = 0; j < ff; j++) {
            float glu = fminf(gu[2 * j], limit);
            float lin = fmaxf(-limit, fminf(limit, gu[2 * j + 1]));
            out[(size_t) i * ff + j] = glu * sigmoidf_(1.702f * glu) * (lin + 1.0f);
        }
    }
}

REF(moe_topk)(int32_t *ids, float *weights, const float *logits, int n, int experts, int k) {
    for (int i = 0; i < n; i++) {
        const float *lg = logits + (size_t) i * experts;
        int32_t *id = ids + (size_t) i * k;
        float *wt = weights + (size_t) i * k;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < experts; e++) {
                int taken = 0;
                for (int p = 0; p < j; p++) taken |= id[p] == e;
                if (!taken && (best < 0 || lg[e] > lg[best])) best = e;
            }
            id[j] = best;
            wt[j] = lg[best];
        }
        float mx = -INFINITY, sum = 0.0f;
        for (int j = 0; j < k; j++) mx = fmaxf(mx, wt[j]);
        for (int j = 0; j < k; j++) { wt[j] = expf(wt[j] - mx); sum += wt[j]; }
        for (int j = 0; j < k; j++) wt[j] /= sum;
    }
}

static const float FP4[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                              -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

REF(mxfp4_matmul)(float *y, const uint8_t *blocks, const uint8_t *scales, const float *bias, const float *x,
                  int x_per_slot, const int32_t *expert_ids, int n, int k, int rows, int cols) {
    int nb = cols / 32;
    for (int t = 0; t < n * k; t++) {
        int e = expert_ids[t];
        const float *xt = x + (size_t) (x_per_slot ? t : t / k) * cols;
        for (int r = 0; r < rows; r++) {
            size_t blk0 = ((size_t) e * rows + r) * nb;
            float sum = 0.0f;
            for (int b = 0; b < nb; b++) {
                float scale = ldexpf(1.0f, (int) scales[blk0 + b] - 127);
                const uint8_t *q = blocks + (blk0 + b) * 16;
                const float *xb = xt + b * 32;
                float s = 0.0f;
                for (int j = 0; j < 16; j++) s += FP4[q[j] & 15] * xb[2 * j] + FP4[q[j] >> 4] * xb[2 * j + 1];
                sum += s * scale;
            }
            y[(size_t) t * rows + r] = bias ? sum + bias[(size_t) e * rows + r] : sum;
        }
    }
}

REF(moe_combine)(float *out, const float *y, const float *weights, int n, int k, int dim) {
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t) i * dim;
        for (int d = 0; d < dim; d++) o[d] = 0.0f;
        for (int j = 0; j < k; j++) {
            float w = weights[(size_t) i * k + j];
            const float *yy = y + ((size_t) i * k + j) * dim;
            for (int d = 0; d < dim; d++) o[d] += w * yy[d];
        }
    }
}

REF(gather)(float *out, const float *x, const int32_t *rows, int n, int dim) {
    for (int i = 0; i < n; i++) memcpy(out + (size_t) i * dim, x + (size_t) rows[i] * dim, sizeof(float) * (size_t) dim);
}

REF(argmax)(int32_t *out, const float *logits, int n, int vocab) {
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t) i * vocab;
        int best = 0;
        for (int v = 1; v < vocab; v++) if (l[v] > l[best]) best = v;
        out[i] = best;
    }
}

REF(read_probe)(uint32_t *out, const void *x, int64_t count) {
    const int64_t threads = 1024 * 256, chunks = count / 16;
    const uint8_t *bytes = x;
    for (int b = 0; b < 1024; b++) {
        uint32_t h = 0;
        for (int t = 0; t < 256; t++) {
            for (int64_t c = (int64_t) b * 256 + t; c < chunks; c += threads) {
                uint32_t w[4];
                memcpy(w, bytes + c * 16, 16);
                h ^= w[0] ^ w[1] ^ w[2] ^ w[3];
            }
        }
        out[b] = h;
    }
}

/* ---- dispatch table: argument decoding and launch geometry per the ABI ---- */

#define P(n_) ((void *) (uintptr_t) a[n_].p)
#define I(n_) (a[n_].i)
#define L(n_) (a[n_].l)
#define F(n_) (a[n_].f)
#define CEIL(x, y) (((int64_t) (x) + (y) - 1) / (y))
#define GEOM(name, gx, gy, gz, bx) \
    static void geom_##name(const bs_arg *a, unsigned g[3], unsigned b[3]) { \
        (void) a; g[0] = (unsigned) (gx); g[1] = (unsigned) (gy); g[2] = (unsigned) (gz); \
        b[0] = (bx); b[1] = 1; b[2] = 1; }

static void run_embed(const bs_arg *a) { basalt_ref_embed(P(0), P(1), I(2), P(3), I(4), I(5)); }
GEOM(embed, I(4), 1, 1, 256)
static void run_add(const bs_arg *a) { basalt_ref_add(P(0), P(1), L(2)); }
GEOM(add, CEIL(L(2), 256), 1, 1, 256)
static void run_rmsnorm(const bs_arg *a) { basalt_ref_rmsnorm(P(0), P(1), P(2), I(3), I(4), F(5)); }
GEOM(rmsnorm, I(3), 1, 1, 256)
static void run_layernorm(const bs_arg *a) { basalt_ref_layernorm(P(0), P(1), P(2), P(3), I(4), I(5), F(6)); }
GEOM(layernorm, I(4), 1, 1, 256)
static void run_matmul(const bs_arg *a) { basalt_ref_matmul(P(0), P(1), I(2), P(3), P(4), I(5), I(6), I(7)); }
GEOM(matmul, CEIL(I(5), 4), CEIL(I(7), 8), 1, 128)
static void run_rope(const bs_arg *a) {
    basalt_ref_rope(P(0), I(1), I(2), P(3), P(4), F(5), I(6), I(7), I(8), I(9), I(10));
}
GEOM(rope, I(6), I(7), 1, 64)
static void run_kv_store(const bs_arg *a) {
    basalt_ref_kv_store(P(0), P(1), P(2), I(3), I(4), I(5), P(6), I(7), I(8));
}
GEOM(kv_store, I(7), 1, 1, 256)
static void run_attention(const bs_arg *a) {
    basalt_ref_attention(P(0), P(1), I(2), I(3), P(4), P(5), P(6), I(7), P(8), P(9), I(10), I(11), I(12), I(13),
                         I(14), F(15), I(16), P(17));
}
GEOM(attention, I(10), I(12), 1, 128)
static void run_attention_split(const bs_arg *a) {
    basalt_ref_attention_split(P(0), P(1), P(2), I(3), I(4), P(5), P(6), P(7), I(8), P(9), P(10), I(11), I(12),
                               I(13), I(14), I(15), F(16), I(17), I(18), I(19));
}
GEOM(attention_split, I(11), I(13), I(18), 128)
static void run_attention_reduce(const bs_arg *a) {
    basalt_ref_attention_reduce(P(0), P(1), P(2), I(3), I(4), I(5), I(6), P(7));
}
GEOM(attention_reduce, I(3), I(4), 1, 128)
static void run_gelu(const bs_arg *a) { basalt_ref_gelu(P(0), L(1)); }
GEOM(gelu, CEIL(L(1), 256), 1, 1, 256)
static void run_swiglu(const bs_arg *a) { basalt_ref_swiglu(P(0), P(1), P(2), L(3)); }
GEOM(swiglu, CEIL(L(3), 256), 1, 1, 256)
static void run_swiglu_oss(const bs_arg *a) { basalt_ref_swiglu_oss(P(0), P(1), I(2), I(3), F(4)); }
GEOM(swiglu_oss, CEIL((int64_t) I(2) * I(3), 256), 1, 1, 256)
static void run_to_bf16(const bs_arg *a) { basalt_ref_to_bf16(P(0), P(1), L(2)); }
GEOM(to_bf16, CEIL(L(2), 256), 1, 1, 256)
static void run_moe_topk(const bs_arg *a) { basalt_ref_moe_topk(P(0), P(1), P(2), I(3), I(4), I(5)); }
GEOM(moe_topk, I(3), 1, 1, 32)
static void run_mxfp4_matmul(const bs_arg *a) {
    basalt_ref_mxfp4_matmul(P(0), P(1), P(2), P(3), P(4), I(5), P(6), I(7), I(8), I(9), I(10));
}
GEOM(mxfp4_matmul, CEIL(I(9), 4), (int64_t) I(7) * I(8), 1, 128)
static void run_moe_combine(const bs_arg *a) { basalt_ref_moe_combine(P(0), P(1), P(2), I(3), I(4), I(5)); }
GEOM(moe_combine, I(3), 1, 1, 256)
static void run_gather(const bs_arg *a) { basalt_ref_gather(P(0), P(1), P(2), I(3), I(4)); }
GEOM(gather, I(3), 1, 1, 256)
static void run_argmax(const bs_arg *a) { basalt_ref_argmax(P(0), P(1), I(2), I(3)); }
GEOM(argmax, I(2), 1, 1, 256)
static void run_read_probe(const bs_arg *a) { basalt_ref_read_probe(P(0), P(1), L(2)); }
GEOM(read_probe, 1024, 1, 1, 256)

#define K(name, sig) {"basalt_" #name, sig, 0, {0}, geom_##name, run_##name}

/* signatures verbatim from kernels/cuda/kernels.abi (make check compares them); types parsed from them */
static bs_kernel table[] = {
    K(embed, "out:ptr, table:ptr, table_bf16:i32, ids:ptr, n:i32, dim:i32"),
    K(add, "x:ptr, y:ptr, count:i64"),
    K(rmsnorm, "out:ptr, x:ptr, w:ptr, n:i32, dim:i32, eps:f32"),
    K(layernorm, "out:ptr, x:ptr, w:ptr, b:ptr, n:i32, dim:i32, eps:f32"),
    K(matmul, "y:ptr, w:ptr, w_bf16:i32, x:ptr, bias:ptr/opt, rows:i32, cols:i32, n:i32"),
    K(rope, "x:ptr, stride:i32, offset:i32, pos:ptr, inv_freq:ptr, mscale:f32, n:i32, heads:i32, head_dim:i32, "
            "rotary_dims:i32, half_split:i32"),
    K(kv_store, "k_cache:ptr, v_cache:ptr, src:ptr, src_stride:i32, k_offset:i32, v_offset:i32, slots:ptr, n:i32, "
                "kv_dim:i32"),
    K(attention, "out:ptr, q:ptr, q_stride:i32, q_offset:i32, k_cache:ptr, v_cache:ptr, block_tables:ptr, "
                 "max_blocks:i32, row_seq:ptr, row_pos:ptr, n:i32, heads:i32, kv_heads:i32, head_dim:i32, "
                 "block_size:i32, scale:f32, window:i32, sinks:ptr/opt"),
    K(attention_split, "part_acc:ptr, part_ml:ptr, q:ptr, q_stride:i32, q_offset:i32, k_cache:ptr, v_cache:ptr, "
                       "block_tables:ptr, max_blocks:i32, row_seq:ptr, row_pos:ptr, n:i32, heads:i32, kv_heads:i32, "
                       "head_dim:i32, block_size:i32, scale:f32, window:i32, splits:i32, split_len:i32"),
    K(attention_reduce, "out:ptr, part_acc:ptr, part_ml:ptr, n:i32, heads:i32, head_dim:i32, splits:i32, "
                        "sinks:ptr/opt"),
    K(gelu, "x:ptr, count:i64"),
    K(swiglu, "out:ptr, gate:ptr, up:ptr, count:i64"),
    K(swiglu_oss, "out:ptr, gate_up:ptr, n:i32, ff:i32, limit:f32"),
    K(to_bf16, "out:ptr, x:ptr, count:i64"),
    K(moe_topk, "ids:ptr, weights:ptr, logits:ptr, n:i32, experts:i32, k:i32"),
    K(mxfp4_matmul, "y:ptr, blocks:ptr, scales:ptr, bias:ptr/opt, x:ptr, x_per_slot:i32, expert_ids:ptr, n:i32, "
                    "k:i32, rows:i32, cols:i32"),
    K(moe_combine, "out:ptr, y:ptr, weights:ptr, n:i32, k:i32, dim:i32"),
    K(gather, "out:ptr, x:ptr, rows:ptr, n:i32, dim:i32"),
    K(argmax, "out:ptr, logits:ptr, n:i32, vocab:i32"),
    K(read_probe, "out:ptr, x:ptr, count:i64"),
};

const int bs_kernel_count = (int) (sizeof(table) / sizeof(table[0]));

__attribute__((constructor)) static void parse_types(void) {
    for (int k = 0; k < bs_kernel_count; k++) {
        const char *s = table[k].signature;
        int n = 0;
        while (*s) {
            const char *colon = strchr(s, ':');
            if (!colon || n >= BS_MAX_ARGS) break;
            const char *t = colon + 1;
            enum bs_type ty = !strncmp(t, "ptr/opt", 7) ? T_OPT
                              : !strncmp(t, "ptr", 3)   ? T_PTR
                              : !strncmp(t, "i32", 3)   ? T_I32
                              : !strncmp(t, "i64", 3)   ? T_I64
                                                        : T_F32;
            table[k].types[n++] = ty;
            const char *comma = strchr(t, ',');
            if (!comma) break;
            s = comma + 1;
            while (*s == ' ') s++;
        }
        table[k].nargs = n;
    }
}

const bs_kernel *bs_find_kernel(const char *name) {
    for (int k = 0; k < bs_kernel_count; k++) if (!strcmp(table[k].name, name)) return &table[k];
    return NULL;
}

const bs_kernel *bs_kernel_at(int i) { return i >= 0 && i < bs_kernel_count ? &table[i] : NULL; }

/* The stand-in's kernel table, for the ABI check: "name(signature)" of entry i, NULL past the end. */
EXPORT const char *basalt_standin_cuda_kernel(int i) {
    static _Thread_local char buf[BS_MAX_ARGS * 32 + 64];
    if (i < 0 || i >= bs_kernel_count) return NULL;
    snprintf(buf, sizeof buf, "%s(%s)", table[i].name, table[i].signature);
    return buf;
}
