/*
 * The stand-in libcublasLt.so.13 (test only): the cuBLASLt calls of HARDWARE.md §5.3 / CUDA.md §6.6 the backend uses,
 * with a C reference GEMM: D = epilogue(alpha * op(A) * op(B) + beta * C (+ bias)), column-major as cuBLAS defines
 * it, A/B/C/D CUDA_R_32F or CUDA_R_16BF, fp32 compute (bf16 stores round to nearest even). The GEMM runs on the
 * given stream through the stand-in libcuda (basalt_standin_cuda_enqueue), so it is recorded during graph capture.
 * Test hook: basalt_standin_cublaslt_fail(call, status, skip).
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "standin.h"

typedef int cublasStatus_t;
enum { ST_SUCCESS = 0, ST_NOT_INITIALIZED = 1, ST_ALLOC_FAILED = 3, ST_INVALID_VALUE = 7, ST_EXECUTION_FAILED = 13,
       ST_INTERNAL_ERROR = 14, ST_NOT_SUPPORTED = 15 };
enum { R_32F = 0, R_16BF = 14 };
enum { OP_N = 0, OP_T = 1, OP_C = 2 };
enum { EPI_DEFAULT = 1, EPI_RELU = 2, EPI_BIAS = 4, EPI_RELU_BIAS = 6, EPI_GELU = 32, EPI_GELU_BIAS = 36 };
/* descriptor attributes */
enum { D_COMPUTE_TYPE = 0, D_SCALE_TYPE = 1, D_POINTER_MODE = 2, D_TRANSA = 3, D_TRANSB = 4, D_TRANSC = 5,
       D_EPILOGUE = 7, D_BIAS_POINTER = 8, D_BIAS_DATA_TYPE = 26 };
/* layout attributes */
enum { L_TYPE = 0, L_ORDER = 1, L_ROWS = 2, L_COLS = 3, L_LD = 4, L_BATCH_COUNT = 5, L_STRIDED_BATCH_OFFSET = 6 };

#define HANDLE_MAGIC 0x4c544c48u
struct lt_handle { uint32_t magic; };
struct lt_desc { int compute, scale, transa, transb, epilogue, bias_type; const void *bias; };
struct lt_layout { int type; uint64_t rows, cols; int64_t ld; };
struct lt_pref { uint64_t workspace; };
typedef struct { uint64_t data[8]; } cublasLtMatmulAlgo_t;
typedef struct {
    cublasLtMatmulAlgo_t algo;
    size_t workspaceSize;
    cublasStatus_t state;
    float wavesCount;
    int reserved[4];
} cublasLtMatmulHeuristicResult_t;

typedef struct lt_handle *cublasLtHandle_t;
typedef struct lt_desc *cublasLtMatmulDesc_t;
typedef struct lt_layout *cublasLtMatrixLayout_t;
typedef struct lt_pref *cublasLtMatmulPreference_t;

/* ---------------- failure injection ---------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct { char call[64]; int status, skip, live; } fails[32];

EXPORT int basalt_standin_cublaslt_fail(const char *call, int status, int skip) {
    if (!call || strlen(call) >= 64) return ST_INVALID_VALUE;
    pthread_mutex_lock(&lock);
    int rc = ST_ALLOC_FAILED;
    for (int i = 0; i < 32; i++) {
        if (fails[i].live) continue;
        strcpy(fails[i].call, call);
        fails[i].status = status;
        fails[i].skip = skip < 0 ? 0 : skip;
        fails[i].live = 1;
        rc = ST_SUCCESS;
        break;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static cublasStatus_t injected(const char *call) {
    pthread_mutex_lock(&lock);
    cublasStatus_t rc = ST_SUCCESS;
    for (int i = 0; i < 32; i++) {
        if (!fails[i].live || strcmp(fails[i].call, call)) continue;
        if (fails[i].skip > 0) { fails[i].skip--; continue; }
        fails[i].live = 0;
        rc = fails[i].status;
        break;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

#define ENTER(name) do { cublasStatus_t s_ = injected(name); if (s_) return s_; } while (0)

/* ---------------- handles ---------------- */

EXPORT cublasStatus_t cublasLtCreate(cublasLtHandle_t *h) {
    ENTER("cublasLtCreate");
    if (!h) return ST_INVALID_VALUE;
    struct lt_handle *p = calloc(1, sizeof *p);
    if (!p) return ST_ALLOC_FAILED;
    p->magic = HANDLE_MAGIC;
    *h = p;
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtDestroy(cublasLtHandle_t h) {
    ENTER("cublasLtDestroy");
    if (!h || h->magic != HANDLE_MAGIC) return ST_NOT_INITIALIZED;
    h->magic = 0;
    free(h);
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *d, int computeType, int scaleType) {
    ENTER("cublasLtMatmulDescCreate");
    if (!d) return ST_INVALID_VALUE;
    /* fp32 compute (68), its pedantic (69) and fast variants (74, 75, 77); fp32 scale */
    if (computeType != 68 && computeType != 69 && computeType != 74 && computeType != 75 && computeType != 77) {
        return ST_NOT_SUPPORTED;
    }
    if (scaleType != R_32F) return ST_NOT_SUPPORTED;
    struct lt_desc *p = calloc(1, sizeof *p);
    if (!p) return ST_ALLOC_FAILED;
    p->compute = computeType;
    p->scale = scaleType;
    p->transa = p->transb = OP_N;
    p->epilogue = EPI_DEFAULT;
    p->bias_type = -1;
    *d = p;
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t d) {
    ENTER("cublasLtMatmulDescDestroy");
    free(d);
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t d, int attr, const void *buf, size_t size) {
    ENTER("cublasLtMatmulDescSetAttribute");
    if (!d || !buf) return ST_INVALID_VALUE;
    int32_t v = 0;
    if (attr != D_BIAS_POINTER) {
        if (size != 4) return ST_INVALID_VALUE;
        memcpy(&v, buf, 4);
    } else if (size != sizeof(void *)) {
        return ST_INVALID_VALUE;
    }
    switch (attr) {
        case D_COMPUTE_TYPE: d->compute = v; break;
        case D_SCALE_TYPE: if (v != R_32F) return ST_NOT_SUPPORTED; break;
        case D_POINTER_MODE: if (v != 0) return ST_NOT_SUPPORTED; break; /* host alpha/beta only */
        case D_TRANSA: case D_TRANSB:
            if (v != OP_N && v != OP_T) return ST_INVALID_VALUE;
            if (attr == D_TRANSA) d->transa = v; else d->transb = v;
            break;
        case D_TRANSC: if (v != OP_N) return ST_NOT_SUPPORTED; break;
        case D_EPILOGUE:
            if (v != EPI_DEFAULT && v != EPI_RELU && v != EPI_BIAS && v != EPI_RELU_BIAS && v != EPI_GELU
                && v != EPI_GELU_BIAS) return ST_NOT_SUPPORTED;
            d->epilogue = v;
            break;
        case D_BIAS_POINTER: memcpy(&d->bias, buf, sizeof(void *)); break;
        case D_BIAS_DATA_TYPE:
            if (v != R_32F && v != R_16BF) return ST_NOT_SUPPORTED;
            d->bias_type = v;
            break;
        default: return ST_INVALID_VALUE;
    }
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *l, int type, uint64_t rows, uint64_t cols,
                                                 int64_t ld) {
    ENTER("cublasLtMatrixLayoutCreate");
    if (!l) return ST_INVALID_VALUE;
    if (type != R_32F && type != R_16BF) return ST_NOT_SUPPORTED;
    if (rows == 0 || cols == 0 || ld < (int64_t) rows) return ST_INVALID_VALUE;
    struct lt_layout *p = calloc(1, sizeof *p);
    if (!p) return ST_ALLOC_FAILED;
    *p = (struct lt_layout) {type, rows, cols, ld};
    *l = p;
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t l) {
    ENTER("cublasLtMatrixLayoutDestroy");
    free(l);
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t l, int attr, const void *buf,
                                                       size_t size) {
    ENTER("cublasLtMatrixLayoutSetAttribute");
    if (!l || !buf) return ST_INVALID_VALUE;
    int64_t v = 0;
    if (size == 4) { int32_t t; memcpy(&t, buf, 4); v = t; }
    else if (size == 8) memcpy(&v, buf, 8);
    else return ST_INVALID_VALUE;
    switch (attr) {
        case L_ORDER: return v == 0 ? ST_SUCCESS : ST_NOT_SUPPORTED; /* column order only */
        case L_BATCH_COUNT: return v == 1 ? ST_SUCCESS : ST_NOT_SUPPORTED;
        case L_STRIDED_BATCH_OFFSET: return ST_SUCCESS;
        default: return ST_INVALID_VALUE;
    }
}

EXPORT cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *p) {
    ENTER("cublasLtMatmulPreferenceCreate");
    if (!p) return ST_INVALID_VALUE;
    *p = calloc(1, sizeof **p);
    return *p ? ST_SUCCESS : ST_ALLOC_FAILED;
}

EXPORT cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t p) {
    ENTER("cublasLtMatmulPreferenceDestroy");
    free(p);
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t p, int attr, const void *buf,
                                                           size_t size) {
    ENTER("cublasLtMatmulPreferenceSetAttribute");
    if (!p || !buf) return ST_INVALID_VALUE;
    if (attr != 1 || size != 8) return ST_INVALID_VALUE; /* MAX_WORKSPACE_BYTES, uint64 */
    memcpy(&p->workspace, buf, 8);
    return ST_SUCCESS;
}

/* ---------------- the GEMM ---------------- */

typedef struct {
    int m, n, k, transa, transb, epilogue;
    float alpha, beta;
    const void *a, *b, *c, *bias;
    void *d;
    int ta, tb, tc, td, tbias;
    int64_t lda, ldb, ldc, ldd;
} gemm;

static inline float load(const void *p, int type, size_t i) {
    if (type == R_32F) return ((const float *) p)[i];
    uint32_t u = (uint32_t) ((const uint16_t *) p)[i] << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline void store(void *p, int type, size_t i, float v) {
    if (type == R_32F) { ((float *) p)[i] = v; return; }
    uint32_t u;
    memcpy(&u, &v, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) u = (u | 0x00400000u); /* NaN stays NaN */
    else u += 0x7fffu + ((u >> 16) & 1u);                       /* round to nearest even */
    ((uint16_t *) p)[i] = (uint16_t) (u >> 16);
}

static void run_gemm(void *data) {
    const gemm *g = data;
    for (int j = 0; j < g->n; j++) {
        for (int i = 0; i < g->m; i++) {
            float acc = 0.0f;
            for (int p = 0; p < g->k; p++) {
                size_t ai = g->transa == OP_N ? (size_t) i + (size_t) p * g->lda : (size_t) p + (size_t) i * g->lda;
                size_t bi = g->transb == OP_N ? (size_t) p + (size_t) j * g->ldb : (size_t) j + (size_t) p * g->ldb;
                acc += load(g->a, g->ta, ai) * load(g->b, g->tb, bi);
            }
            float v = g->alpha * acc;
            if (g->beta != 0.0f) v += g->beta * load(g->c, g->tc, (size_t) i + (size_t) j * g->ldc);
            int e = g->epilogue;
            if (e == EPI_BIAS || e == EPI_RELU_BIAS || e == EPI_GELU_BIAS) v += load(g->bias, g->tbias, (size_t) i);
            if (e == EPI_RELU || e == EPI_RELU_BIAS) v = v > 0.0f ? v : 0.0f;
            if (e == EPI_GELU || e == EPI_GELU_BIAS) {
                float u = 0.7978845608f * (v + 0.044715f * v * v * v);
                v = v / (1.0f + expf(-2.0f * u));
            }
            store(g->d, g->td, (size_t) i + (size_t) j * g->ldd, v);
        }
    }
}

static size_t elem(int type) { return type == R_32F ? 4 : 2; }

static int in_device(const void *p, const struct lt_layout *l) {
    size_t elems = (size_t) l->ld * (l->cols - 1) + l->rows;
    return basalt_standin_cuda_range((CUdeviceptr) (uintptr_t) p, elems * elem(l->type));
}

/* shapes: op(A) m x k, op(B) k x n, C and D m x n */
static cublasStatus_t shape(const struct lt_desc *d, const struct lt_layout *A, const struct lt_layout *B,
                            const struct lt_layout *C, const struct lt_layout *D, int *m, int *n, int *k) {
    if (!d || !A || !B || !C || !D) return ST_INVALID_VALUE;
    uint64_t am = d->transa == OP_N ? A->rows : A->cols, ak = d->transa == OP_N ? A->cols : A->rows;
    uint64_t bk = d->transb == OP_N ? B->rows : B->cols, bn = d->transb == OP_N ? B->cols : B->rows;
    if (ak != bk || D->rows != am || D->cols != bn || C->rows != am || C->cols != bn) return ST_INVALID_VALUE;
    if (am > 0x7fffffff || bn > 0x7fffffff || ak > 0x7fffffff) return ST_NOT_SUPPORTED;
    if (C->type != D->type) return ST_NOT_SUPPORTED;
    *m = (int) am;
    *n = (int) bn;
    *k = (int) ak;
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t h, cublasLtMatmulDesc_t d,
                                                     cublasLtMatrixLayout_t A, cublasLtMatrixLayout_t B,
                                                     cublasLtMatrixLayout_t C, cublasLtMatrixLayout_t D,
                                                     cublasLtMatmulPreference_t pref, int requested,
                                                     cublasLtMatmulHeuristicResult_t *results, int *returned) {
    ENTER("cublasLtMatmulAlgoGetHeuristic");
    if (!h || h->magic != HANDLE_MAGIC) return ST_NOT_INITIALIZED;
    if (!pref || requested <= 0 || !results || !returned) return ST_INVALID_VALUE;
    int m, n, k;
    cublasStatus_t s = shape(d, A, B, C, D, &m, &n, &k);
    if (s) return s;
    memset(&results[0], 0, sizeof results[0]);
    results[0].algo.data[0] = 1;
    results[0].state = ST_SUCCESS;
    results[0].wavesCount = 1.0f;
    *returned = 1;
    return ST_SUCCESS;
}

EXPORT cublasStatus_t cublasLtMatmul(cublasLtHandle_t h, cublasLtMatmulDesc_t d, const void *alpha, const void *A,
                                     cublasLtMatrixLayout_t Adesc, const void *B, cublasLtMatrixLayout_t Bdesc,
                                     const void *beta, const void *C, cublasLtMatrixLayout_t Cdesc, void *D,
                                     cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t *algo, void *workspace,
                                     size_t workspaceSize, CUstream stream) {
    ENTER("cublasLtMatmul");
    (void) algo;
    (void) workspace;
    (void) workspaceSize;
    if (!h || h->magic != HANDLE_MAGIC) return ST_NOT_INITIALIZED;
    if (!alpha || !beta || !A || !B || !D) return ST_INVALID_VALUE;
    gemm g;
    memset(&g, 0, sizeof g);
    cublasStatus_t s = shape(d, Adesc, Bdesc, Cdesc, Ddesc, &g.m, &g.n, &g.k);
    if (s) return s;
    memcpy(&g.alpha, alpha, 4);
    memcpy(&g.beta, beta, 4);
    if (g.beta != 0.0f && !C) return ST_INVALID_VALUE;
    int has_bias = d->epilogue == EPI_BIAS || d->epilogue == EPI_RELU_BIAS || d->epilogue == EPI_GELU_BIAS;
    if (has_bias && !d->bias) return ST_INVALID_VALUE;
    g.transa = d->transa;
    g.transb = d->transb;
    g.epilogue = d->epilogue;
    g.a = A; g.b = B; g.c = C; g.d = D; g.bias = d->bias;
    g.ta = Adesc->type; g.tb = Bdesc->type; g.tc = Cdesc->type; g.td = Ddesc->type;
    g.tbias = d->bias_type >= 0 ? d->bias_type : Ddesc->type;
    g.lda = Adesc->ld; g.ldb = Bdesc->ld; g.ldc = Cdesc->ld; g.ldd = Ddesc->ld;
    if (!in_device(A, Adesc) || !in_device(B, Bdesc) || !in_device(D, Ddesc)
        || (g.beta != 0.0f && !in_device(C, Cdesc))
        || (has_bias && !basalt_standin_cuda_range((CUdeviceptr) (uintptr_t) d->bias, (size_t) g.m * elem(g.tbias)))) {
        return ST_INVALID_VALUE;
    }
    CUresult r = basalt_standin_cuda_enqueue(stream, "cublasLtMatmul", run_gemm, &g, sizeof g);
    return r == CUDA_SUCCESS ? ST_SUCCESS : ST_EXECUTION_FAILED;
}
