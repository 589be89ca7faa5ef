/*
 * The stand-in libcuda.so.1 (test only, docs/CUDA.md §4): the driver API subset Basalt resolves, over host memory.
 * One device ("Basalt stand-in", cc 9.0, 132 SMs, 80 GiB); device memory is calloc'ed host memory registered with its
 * size; launches run the C references of refs.c synchronously; streams run in order; graph capture records launches
 * and async copies (argument bytes copied at capture) and replays them. Only the versioned symbols of CUDA 13's
 * cuda.h are exported (cuMemAlloc_v2, never cuMemAlloc); cuGetProcAddress_v2 maps base names to them.
 *
 * Test hooks: basalt_standin_cuda_fail, basalt_standin_cuda_log (a kernel run eagerly logs "launch <kernel>
 * grid=x,y,z"; a graph replay logs one "graph <id> nodes=<n>" line and not its kernels), basalt_standin_cuda_reset
 * (clears the log and the pending failures; allocations, modules, streams stay), basalt_standin_cuda_live (live
 * allocations).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "standin.h"

#define DRIVER_VERSION 13000
#define TOTAL_MEM (80ULL << 30)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int initialized;

/* ---------------- test hooks ---------------- */

typedef struct { char call[64]; int result; int skip; int live; } fail_entry;
static fail_entry fails[32];
static char *logbuf;
static size_t loglen, logcap;

static void logf_(const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t) n >= sizeof line) n = sizeof line - 1;
    if (loglen + (size_t) n + 2 > logcap) {
        size_t cap = logcap ? logcap * 2 : 4096;
        while (cap < loglen + (size_t) n + 2) cap *= 2;
        char *b = realloc(logbuf, cap);
        if (!b) return;
        logbuf = b;
        logcap = cap;
    }
    memcpy(logbuf + loglen, line, (size_t) n);
    loglen += (size_t) n;
    logbuf[loglen++] = '\n';
    logbuf[loglen] = 0;
}

/* A failure planned for this call (its symbol or base name): returns the result to fail with, else 0. */
static CUresult injected(const char *symbol) {
    size_t base = strlen(symbol);
    const char *v = strstr(symbol, "_v");
    if (v && v[2] >= '0' && v[2] <= '9') base = (size_t) (v - symbol);
    for (int i = 0; i < 32; i++) {
        fail_entry *f = &fails[i];
        if (!f->live) continue;
        if (strcmp(f->call, symbol) && !(strlen(f->call) == base && !strncmp(f->call, symbol, base))) continue;
        if (f->skip > 0) { f->skip--; continue; }
        f->live = 0;
        return f->result;
    }
    return 0;
}

EXPORT int basalt_standin_cuda_fail(const char *call, int result, int skip) {
    if (!call || strlen(call) >= 64) return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&lock);
    int rc = CUDA_ERROR_OUT_OF_MEMORY;
    for (int i = 0; i < 32; i++) {
        if (!fails[i].live) {
            strcpy(fails[i].call, call);
            fails[i].result = result;
            fails[i].skip = skip < 0 ? 0 : skip;
            fails[i].live = 1;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

EXPORT size_t basalt_standin_cuda_log(char *buf, size_t cap) {
    pthread_mutex_lock(&lock);
    size_t n = loglen;
    if (buf && cap > 0) {
        size_t c = n < cap - 1 ? n : cap - 1;
        if (c) memcpy(buf, logbuf, c);
        buf[c] = 0;
    }
    pthread_mutex_unlock(&lock);
    return n;
}

EXPORT void basalt_standin_cuda_reset(void) {
    pthread_mutex_lock(&lock);
    loglen = 0;
    if (logbuf) logbuf[0] = 0;
    memset(fails, 0, sizeof fails);
    pthread_mutex_unlock(&lock);
}

/* ---------------- memory registry (sorted by base) ---------------- */

typedef struct { uintptr_t base; size_t size; } region;
typedef struct { region *r; size_t n, cap; } regions;
static regions dev_mem, host_mem;
static size_t dev_used;

static size_t find_le(const regions *t, uintptr_t p) { /* index of the last region with base <= p, or n */
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->r[mid].base <= p) lo = mid + 1; else hi = mid;
    }
    return lo == 0 ? t->n : lo - 1;
}

static int reg_add(regions *t, uintptr_t p, size_t size) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        region *r = realloc(t->r, cap * sizeof *r);
        if (!r) return 0;
        t->r = r;
        t->cap = cap;
    }
    size_t i = t->n;
    while (i > 0 && t->r[i - 1].base > p) { t->r[i] = t->r[i - 1]; i--; }
    t->r[i] = (region) {p, size};
    t->n++;
    return 1;
}

static size_t reg_exact(const regions *t, uintptr_t p) {
    size_t i = find_le(t, p);
    return i < t->n && t->r[i].base == p ? i : t->n;
}

static void reg_remove(regions *t, size_t i) {
    memmove(&t->r[i], &t->r[i + 1], (t->n - i - 1) * sizeof(region));
    t->n--;
}

/* [p, p + bytes) inside one device allocation (bytes 0: p inside or at its end) */
static int dev_range(CUdeviceptr p, size_t bytes) {
    size_t i = find_le(&dev_mem, (uintptr_t) p);
    if (i == dev_mem.n) return 0;
    uintptr_t off = (uintptr_t) p - dev_mem.r[i].base;
    return off <= dev_mem.r[i].size && bytes <= dev_mem.r[i].size - off && (bytes > 0 || off < dev_mem.r[i].size);
}

EXPORT int basalt_standin_cuda_range(CUdeviceptr p, size_t bytes) {
    pthread_mutex_lock(&lock);
    int ok = dev_range(p, bytes);
    pthread_mutex_unlock(&lock);
    return ok;
}

EXPORT size_t basalt_standin_cuda_live(void) {
    pthread_mutex_lock(&lock);
    size_t n = dev_mem.n;
    pthread_mutex_unlock(&lock);
    return n;
}

/* ---------------- handles ---------------- */

struct bs_ctx { int retained; };
static struct bs_ctx primary;
static _Thread_local CUcontext current;

typedef enum { N_KERNEL, N_COPY, N_SET8, N_SET32, N_HOST } node_kind;
typedef struct {
    node_kind kind;
    const bs_kernel *kernel;
    bs_arg args[BS_MAX_ARGS];
    unsigned grid[3];
    uintptr_t dst, src;
    size_t bytes;
    uint32_t value;
    void (*fn)(void *);
    void *data;
    size_t dsize;
} node;

struct bs_graph { int id; node *nodes; size_t n, cap; int invalid; };
struct bs_graph_exec { int id; node *nodes; size_t n; };
struct bs_stream { unsigned flags; CUgraph capture; };
struct bs_event { unsigned flags; int recorded; struct timespec at; };
struct bs_module { char *image; size_t size; };
struct bs_function { CUmodule module; const bs_kernel *kernel; };

/* every live handle, by kind, for INVALID_HANDLE checks */
typedef struct { void **p; size_t n, cap; } handles;
static handles streams, events, modules, functions, graphs, execs;

static int h_add(handles *h, void *p) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        void **q = realloc(h->p, cap * sizeof *q);
        if (!q) return 0;
        h->p = q;
        h->cap = cap;
    }
    h->p[h->n++] = p;
    return 1;
}
static int h_has(const handles *h, const void *p) {
    for (size_t i = 0; i < h->n; i++) if (h->p[i] == p) return 1;
    return 0;
}
static void h_del(handles *h, const void *p) {
    for (size_t i = 0; i < h->n; i++) if (h->p[i] == p) { h->p[i] = h->p[--h->n]; return; }
}

static int graph_ids;
static int capturing_count;

/* ---------------- common prologue ---------------- */

#define ENTER(sym) \
    pthread_mutex_lock(&lock); \
    CUresult rc_ = injected(sym); \
    if (rc_) { pthread_mutex_unlock(&lock); return rc_; } \
    if (!initialized) { pthread_mutex_unlock(&lock); return CUDA_ERROR_NOT_INITIALIZED; }
#define ENTER_CTX(sym) \
    ENTER(sym) \
    if (!current || current->retained <= 0) { pthread_mutex_unlock(&lock); return CUDA_ERROR_INVALID_CONTEXT; }
#define RETURN(v) do { CUresult r_ = (v); pthread_mutex_unlock(&lock); return r_; } while (0)

/* A stream argument: NULL (legacy default) or a live stream. */
static int stream_ok(CUstream s) { return s == NULL || h_has(&streams, s); }

/* A synchronous call while any stream captures: invalidates the captures (as in global mode), 900. */
static CUresult capture_forbidden(void) {
    if (capturing_count == 0) return CUDA_SUCCESS;
    for (size_t i = 0; i < streams.n; i++) {
        struct bs_stream *s = streams.p[i];
        if (s->capture) s->capture->invalid = 1;
    }
    return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

static node *graph_add(CUgraph g) {
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 32;
        node *q = realloc(g->nodes, cap * sizeof *q);
        if (!q) return NULL;
        g->nodes = q;
        g->cap = cap;
    }
    node *n = &g->nodes[g->n++];
    memset(n, 0, sizeof *n);
    return n;
}

/* ---------------- init, version, proc address, errors ---------------- */

EXPORT CUresult cuInit(unsigned int flags) {
    pthread_mutex_lock(&lock);
    CUresult rc = injected("cuInit");
    if (!rc && flags != 0) rc = CUDA_ERROR_INVALID_VALUE;
    if (!rc) initialized = 1;
    pthread_mutex_unlock(&lock);
    return rc;
}

EXPORT CUresult cuDriverGetVersion(int *v) {
    pthread_mutex_lock(&lock);
    CUresult rc = injected("cuDriverGetVersion");
    pthread_mutex_unlock(&lock);
    if (rc) return rc;
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    *v = DRIVER_VERSION;
    return CUDA_SUCCESS;
}

static const struct { int code; const char *name; const char *text; } errors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {34, "CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"},
    {36, "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER", "API call requires a newer driver"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {209, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {221, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND", "PTX JIT compiler library not found"},
    {222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain."},
    {301, "CUDA_ERROR_FILE_NOT_FOUND", "file not found"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {401, "CUDA_ERROR_ILLEGAL_STATE", "the operation cannot be performed in the present state"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {600, "CUDA_ERROR_NOT_READY", "device not ready"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {702, "CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {800, "CUDA_ERROR_NOT_PERMITTED", "operation not permitted"},
    {801, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", "system has unsupported display driver / cuda driver combination"},
    {900, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"},
    {901, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "operation failed due to a previous error during capture"},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

static CUresult error_lookup(CUresult e, const char **p, int text) {
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        if (errors[i].code == e) { *p = text ? errors[i].text : errors[i].name; return CUDA_SUCCESS; }
    }
    *p = NULL;
    return CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuGetErrorName(CUresult e, const char **p) { return error_lookup(e, p, 0); }
EXPORT CUresult cuGetErrorString(CUresult e, const char **p) { return error_lookup(e, p, 1); }

/* ---------------- device ---------------- */

EXPORT CUresult cuDeviceGetCount(int *count) {
    ENTER("cuDeviceGetCount")
    if (!count) RETURN(CUDA_ERROR_INVALID_VALUE);
    *count = 1;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuDeviceGet(CUdevice *dev, int ordinal) {
    ENTER("cuDeviceGet")
    if (!dev) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (ordinal != 0) RETURN(CUDA_ERROR_INVALID_DEVICE);
    *dev = 0;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
    ENTER("cuDeviceGetName")
    if (!name || len <= 0) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (dev != 0) RETURN(CUDA_ERROR_INVALID_DEVICE);
    snprintf(name, (size_t) len, "%s", "Basalt stand-in");
    RETURN(CUDA_SUCCESS);
}

static int attribute(int a) {
    switch (a) {
        case 1: return 1024;             /* MAX_THREADS_PER_BLOCK */
        case 2: case 3: return 1024;     /* MAX_BLOCK_DIM_X/Y */
        case 4: return 64;               /* MAX_BLOCK_DIM_Z */
        case 5: return 2147483647;       /* MAX_GRID_DIM_X */
        case 6: case 7: return 65535;    /* MAX_GRID_DIM_Y/Z */
        case 8: return 49152;            /* MAX_SHARED_MEMORY_PER_BLOCK */
        case 9: return 65536;            /* TOTAL_CONSTANT_MEMORY */
        case 10: return 32;              /* WARP_SIZE */
        case 11: return 2147483647;      /* MAX_PITCH */
        case 12: return 65536;           /* MAX_REGISTERS_PER_BLOCK */
        case 13: return 1980000;         /* CLOCK_RATE kHz */
        case 14: return 512;             /* TEXTURE_ALIGNMENT */
        case 15: return 1;               /* GPU_OVERLAP */
        case 16: return 132;             /* MULTIPROCESSOR_COUNT */
        case 19: return 1;               /* CAN_MAP_HOST_MEMORY */
        case 31: return 1;               /* CONCURRENT_KERNELS */
        case 32: return 1;               /* ECC_ENABLED */
        case 36: return 2619000;         /* MEMORY_CLOCK_RATE kHz */
        case 37: return 5120;            /* GLOBAL_MEMORY_BUS_WIDTH */
        case 38: return 52428800;        /* L2_CACHE_SIZE */
        case 39: return 2048;            /* MAX_THREADS_PER_MULTIPROCESSOR */
        case 40: return 3;               /* ASYNC_ENGINE_COUNT */
        case 41: return 1;               /* UNIFIED_ADDRESSING */
        case 75: return 9;               /* COMPUTE_CAPABILITY_MAJOR */
        case 76: return 0;               /* COMPUTE_CAPABILITY_MINOR */
        case 81: return 233472;          /* MAX_SHARED_MEMORY_PER_MULTIPROCESSOR */
        case 82: return 65536;           /* MAX_REGISTERS_PER_MULTIPROCESSOR */
        case 83: return 1;               /* MANAGED_MEMORY */
        case 95: return 1;               /* COOPERATIVE_LAUNCH */
        case 97: return 232448;          /* MAX_SHARED_MEMORY_PER_BLOCK_OPTIN */
        case 115: return 1;              /* MEMORY_POOLS_SUPPORTED */
        default: return 0;
    }
}

EXPORT CUresult cuDeviceGetAttribute(int *pi, int attrib, CUdevice dev) {
    ENTER("cuDeviceGetAttribute")
    if (!pi || attrib <= 0 || attrib >= 256) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (dev != 0) RETURN(CUDA_ERROR_INVALID_DEVICE);
    *pi = attribute(attrib);
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev) {
    ENTER("cuDeviceTotalMem_v2")
    if (!bytes) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (dev != 0) RETURN(CUDA_ERROR_INVALID_DEVICE);
    *bytes = TOTAL_MEM;
    RETURN(CUDA_SUCCESS);
}

/* ---------------- contexts ---------------- */

EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev) {
    ENTER("cuDevicePrimaryCtxRetain")
    if (!pctx) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (dev != 0) RETURN(CUDA_ERROR_INVALID_DEVICE);
    primary.retained++;
    *pctx = &primary;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    ENTER("cuDevicePrimaryCtxRelease_v2")
    if (dev != 0) RETURN(CUDA_ERROR_INVALID_DEVICE);
    if (primary.retained <= 0) RETURN(CUDA_ERROR_INVALID_CONTEXT);
    primary.retained--;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuCtxSetCurrent(CUcontext ctx) {
    ENTER("cuCtxSetCurrent")
    if (ctx != NULL && (ctx != &primary || primary.retained <= 0)) RETURN(CUDA_ERROR_INVALID_CONTEXT);
    current = ctx;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuCtxGetCurrent(CUcontext *pctx) {
    ENTER("cuCtxGetCurrent")
    if (!pctx) RETURN(CUDA_ERROR_INVALID_VALUE);
    *pctx = current;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuCtxSynchronize(void) {
    ENTER_CTX("cuCtxSynchronize")
    RETURN(capture_forbidden());
}

/* ---------------- memory ---------------- */

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytes) {
    ENTER_CTX("cuMemAlloc_v2")
    if (!dptr || bytes == 0) RETURN(CUDA_ERROR_INVALID_VALUE);
    CUresult c = capture_forbidden();
    if (c) RETURN(c);
    if (bytes > TOTAL_MEM - dev_used) RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    void *p = calloc(1, bytes);
    if (!p) RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    if (!reg_add(&dev_mem, (uintptr_t) p, bytes)) { free(p); RETURN(CUDA_ERROR_OUT_OF_MEMORY); }
    dev_used += bytes;
    *dptr = (CUdeviceptr) (uintptr_t) p;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr p) {
    ENTER_CTX("cuMemFree_v2")
    if (p == 0) RETURN(CUDA_SUCCESS);
    size_t i = reg_exact(&dev_mem, (uintptr_t) p);
    if (i == dev_mem.n) RETURN(CUDA_ERROR_INVALID_VALUE);
    CUresult c = capture_forbidden();
    if (c) RETURN(c);
    dev_used -= dev_mem.r[i].size;
    reg_remove(&dev_mem, i);
    free((void *) (uintptr_t) p);
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuMemGetInfo_v2(size_t *freeb, size_t *total) {
    ENTER_CTX("cuMemGetInfo_v2")
    if (!freeb || !total) RETURN(CUDA_ERROR_INVALID_VALUE);
    *freeb = TOTAL_MEM - dev_used;
    *total = TOTAL_MEM;
    RETURN(CUDA_SUCCESS);
}

static CUresult host_alloc(void **pp, size_t bytes) {
    if (!pp || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    void *p = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    memset(p, 0, bytes);
    if (!reg_add(&host_mem, (uintptr_t) p, bytes)) { free(p); return CUDA_ERROR_OUT_OF_MEMORY; }
    *pp = p;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemHostAlloc(void **pp, size_t bytes, unsigned int flags) {
    ENTER_CTX("cuMemHostAlloc")
    if (flags & ~7u) RETURN(CUDA_ERROR_INVALID_VALUE);
    RETURN(host_alloc(pp, bytes));
}

EXPORT CUresult cuMemAllocHost_v2(void **pp, size_t bytes) {
    ENTER_CTX("cuMemAllocHost_v2")
    RETURN(host_alloc(pp, bytes));
}

EXPORT CUresult cuMemFreeHost(void *p) {
    ENTER_CTX("cuMemFreeHost")
    size_t i = reg_exact(&host_mem, (uintptr_t) p);
    if (p == NULL || i == host_mem.n) RETURN(CUDA_ERROR_INVALID_VALUE);
    reg_remove(&host_mem, i);
    free(p);
    RETURN(CUDA_SUCCESS);
}

/* copies: dst/src device ranges checked; host ranges cannot be */
enum { HTOD, DTOH, DTOD };
static CUresult copy_check(int kind, uintptr_t dst, uintptr_t src, size_t bytes) {
    if ((kind == HTOD || kind == DTOD) && !dev_range(dst, bytes)) return CUDA_ERROR_INVALID_VALUE;
    if ((kind == DTOH || kind == DTOD) && !dev_range(src, bytes)) return CUDA_ERROR_INVALID_VALUE;
    if ((kind == HTOD && !src) || (kind == DTOH && !dst)) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

static CUresult copy_sync(int kind, uintptr_t dst, uintptr_t src, size_t bytes) {
    CUresult c = copy_check(kind, dst, src, bytes);
    if (c) return c;
    c = capture_forbidden();
    if (c) return c;
    if (bytes) memmove((void *) dst, (const void *) src, bytes);
    return CUDA_SUCCESS;
}

/* An operation on a stream: recorded when the stream captures, else run now. */
static CUresult stream_op(CUstream s, node *proto, CUresult (*run)(const node *)) {
    if (!stream_ok(s)) return CUDA_ERROR_INVALID_HANDLE;
    if (s && s->capture) {
        if (s->capture->invalid) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        node *n = graph_add(s->capture);
        if (!n) return CUDA_ERROR_OUT_OF_MEMORY;
        *n = *proto;
        return CUDA_SUCCESS;
    }
    if (s == NULL && capturing_count > 0) return capture_forbidden(); /* the legacy stream syncs with captures */
    return run(proto);
}

static CUresult run_copy(const node *n) {
    if (n->bytes) memmove((void *) n->dst, (const void *) n->src, n->bytes);
    return CUDA_SUCCESS;
}

static CUresult copy_async(int kind, uintptr_t dst, uintptr_t src, size_t bytes, CUstream s) {
    CUresult c = copy_check(kind, dst, src, bytes);
    if (c) return c;
    node n = {.kind = N_COPY, .dst = dst, .src = src, .bytes = bytes};
    return stream_op(s, &n, run_copy);
}

EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
    ENTER_CTX("cuMemcpyHtoD_v2")
    RETURN(copy_sync(HTOD, (uintptr_t) dst, (uintptr_t) src, bytes));
}
EXPORT CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
    ENTER_CTX("cuMemcpyDtoH_v2")
    RETURN(copy_sync(DTOH, (uintptr_t) dst, (uintptr_t) src, bytes));
}
EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    ENTER_CTX("cuMemcpyDtoD_v2")
    RETURN(copy_sync(DTOD, (uintptr_t) dst, (uintptr_t) src, bytes));
}
EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes, CUstream s) {
    ENTER_CTX("cuMemcpyHtoDAsync_v2")
    RETURN(copy_async(HTOD, (uintptr_t) dst, (uintptr_t) src, bytes, s));
}
EXPORT CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes, CUstream s) {
    ENTER_CTX("cuMemcpyDtoHAsync_v2")
    RETURN(copy_async(DTOH, (uintptr_t) dst, (uintptr_t) src, bytes, s));
}
EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s) {
    ENTER_CTX("cuMemcpyDtoDAsync_v2")
    RETURN(copy_async(DTOD, (uintptr_t) dst, (uintptr_t) src, bytes, s));
}

static CUresult run_set(const node *n) {
    if (n->kind == N_SET8) memset((void *) n->dst, (int) (n->value & 0xFF), n->bytes);
    else for (size_t i = 0; i < n->bytes; i++) ((uint32_t *) n->dst)[i] = n->value;
    return CUDA_SUCCESS;
}

static CUresult memset_op(int wide, CUdeviceptr dst, uint32_t v, size_t count, CUstream s, int async) {
    if (wide && (dst & 3)) return CUDA_ERROR_INVALID_VALUE;
    if (!dev_range(dst, wide ? count * 4 : count)) return CUDA_ERROR_INVALID_VALUE;
    node n = {.kind = wide ? N_SET32 : N_SET8, .dst = (uintptr_t) dst, .bytes = count, .value = v};
    if (!async) {
        CUresult c = capture_forbidden();
        return c ? c : run_set(&n);
    }
    return stream_op(s, &n, run_set);
}

EXPORT CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char uc, size_t n) {
    ENTER_CTX("cuMemsetD8_v2")
    RETURN(memset_op(0, dst, uc, n, NULL, 0));
}
EXPORT CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int ui, size_t n) {
    ENTER_CTX("cuMemsetD32_v2")
    RETURN(memset_op(1, dst, ui, n, NULL, 0));
}
EXPORT CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char uc, size_t n, CUstream s) {
    ENTER_CTX("cuMemsetD8Async")
    RETURN(memset_op(0, dst, uc, n, s, 1));
}
EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int ui, size_t n, CUstream s) {
    ENTER_CTX("cuMemsetD32Async")
    RETURN(memset_op(1, dst, ui, n, s, 1));
}

/* ---------------- streams and events ---------------- */

EXPORT CUresult cuStreamCreate(CUstream *ps, unsigned int flags) {
    ENTER_CTX("cuStreamCreate")
    if (!ps || flags > 1) RETURN(CUDA_ERROR_INVALID_VALUE);
    struct bs_stream *s = calloc(1, sizeof *s);
    if (!s || !h_add(&streams, s)) { free(s); RETURN(CUDA_ERROR_OUT_OF_MEMORY); }
    s->flags = flags;
    *ps = s;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuStreamSynchronize(CUstream s) {
    ENTER_CTX("cuStreamSynchronize")
    if (!stream_ok(s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (s ? s->capture != NULL : capturing_count > 0) RETURN(capture_forbidden());
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuStreamQuery(CUstream s) {
    ENTER_CTX("cuStreamQuery")
    if (!stream_ok(s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (s && s->capture) RETURN(capture_forbidden());
    RETURN(CUDA_SUCCESS);
}

static void graph_free(CUgraph g);

EXPORT CUresult cuStreamDestroy_v2(CUstream s) {
    ENTER_CTX("cuStreamDestroy_v2")
    if (!s || !h_has(&streams, s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (s->capture) { graph_free(s->capture); capturing_count--; }
    h_del(&streams, s);
    free(s);
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuEventCreate(CUevent *pe, unsigned int flags) {
    ENTER_CTX("cuEventCreate")
    if (!pe || flags > 15) RETURN(CUDA_ERROR_INVALID_VALUE);
    struct bs_event *e = calloc(1, sizeof *e);
    if (!e || !h_add(&events, e)) { free(e); RETURN(CUDA_ERROR_OUT_OF_MEMORY); }
    e->flags = flags;
    *pe = e;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuEventRecord(CUevent e, CUstream s) {
    ENTER_CTX("cuEventRecord")
    if (!h_has(&events, e) || !stream_ok(s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (s && s->capture) RETURN(CUDA_SUCCESS); /* an event node: nothing to time in the stand-in */
    if (!s && capturing_count > 0) RETURN(capture_forbidden());
    clock_gettime(CLOCK_MONOTONIC, &e->at);
    e->recorded = 1;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuEventQuery(CUevent e) {
    ENTER_CTX("cuEventQuery")
    if (!h_has(&events, e)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuEventSynchronize(CUevent e) {
    ENTER_CTX("cuEventSynchronize")
    if (!h_has(&events, e)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    RETURN(CUDA_SUCCESS);
}

static CUresult elapsed(float *ms, CUevent a, CUevent b) {
    if (!ms) return CUDA_ERROR_INVALID_VALUE;
    if (!h_has(&events, a) || !h_has(&events, b)) return CUDA_ERROR_INVALID_HANDLE;
    if ((a->flags & 2) || (b->flags & 2) || !a->recorded || !b->recorded) return CUDA_ERROR_INVALID_HANDLE;
    double d = (double) (b->at.tv_sec - a->at.tv_sec) * 1e3 + (double) (b->at.tv_nsec - a->at.tv_nsec) / 1e6;
    *ms = (float) d;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuEventElapsedTime(float *ms, CUevent a, CUevent b) {
    ENTER_CTX("cuEventElapsedTime")
    RETURN(elapsed(ms, a, b));
}
EXPORT CUresult cuEventElapsedTime_v2(float *ms, CUevent a, CUevent b) {
    ENTER_CTX("cuEventElapsedTime_v2")
    RETURN(elapsed(ms, a, b));
}

EXPORT CUresult cuEventDestroy_v2(CUevent e) {
    ENTER_CTX("cuEventDestroy_v2")
    if (!h_has(&events, e)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    h_del(&events, e);
    free(e);
    RETURN(CUDA_SUCCESS);
}

/* ---------------- modules and functions ---------------- */

#define FATBIN_MAGIC 0xBA55ED50u

static CUresult module_load(CUmodule *pm, const void *image) {
    if (!pm || !image) return CUDA_ERROR_INVALID_VALUE;
    uint32_t magic;
    memcpy(&magic, image, 4);
    size_t size;
    if (magic == FATBIN_MAGIC) {
        /* fatbin header: magic u32, version u16, header size u16, payload size u64 */
        uint16_t hsize;
        uint64_t payload;
        memcpy(&hsize, (const char *) image + 6, 2);
        memcpy(&payload, (const char *) image + 8, 8);
        if (hsize < 16 || payload > (1ULL << 32)) return CUDA_ERROR_INVALID_IMAGE;
        size = hsize + (size_t) payload;
    } else {
        size = strnlen(image, (size_t) 1 << 30);
        if (!memmem(image, size, ".version", 8)) return CUDA_ERROR_INVALID_IMAGE;
    }
    struct bs_module *m = calloc(1, sizeof *m);
    if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
    m->image = malloc(size ? size : 1);
    if (!m->image || !h_add(&modules, m)) { free(m->image); free(m); return CUDA_ERROR_OUT_OF_MEMORY; }
    memcpy(m->image, image, size);
    m->size = size;
    *pm = m;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleLoadData(CUmodule *pm, const void *image) {
    ENTER_CTX("cuModuleLoadData")
    RETURN(module_load(pm, image));
}

EXPORT CUresult cuModuleLoadDataEx(CUmodule *pm, const void *image, unsigned int n, int *options, void **values) {
    ENTER_CTX("cuModuleLoadDataEx")
    (void) options;
    (void) values;
    if (n > 0 && (!options || !values)) RETURN(CUDA_ERROR_INVALID_VALUE);
    RETURN(module_load(pm, image));
}

EXPORT CUresult cuModuleUnload(CUmodule m) {
    ENTER_CTX("cuModuleUnload")
    if (!h_has(&modules, m)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    for (size_t i = 0; i < functions.n;) {
        struct bs_function *f = functions.p[i];
        if (f->module == m) { h_del(&functions, f); free(f); } else i++;
    }
    h_del(&modules, m);
    free(m->image);
    free(m);
    RETURN(CUDA_SUCCESS);
}

static int ident(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

/* the name as a whole identifier somewhere in the image */
static int image_has(const struct bs_module *m, const char *name) {
    size_t len = strlen(name);
    const char *p = m->image, *end = m->image + m->size;
    while (p < end) {
        const char *hit = memmem(p, (size_t) (end - p), name, len);
        if (!hit) return 0;
        int before = hit > m->image && ident(hit[-1]);
        int after = hit + len < end && ident(hit[len]);
        if (!before && !after) return 1;
        p = hit + 1;
    }
    return 0;
}

EXPORT CUresult cuModuleGetFunction(CUfunction *pf, CUmodule m, const char *name) {
    ENTER_CTX("cuModuleGetFunction")
    if (!pf || !name) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (!h_has(&modules, m)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    const bs_kernel *k = bs_find_kernel(name);
    if (!k || !image_has(m, name)) RETURN(CUDA_ERROR_NOT_FOUND);
    struct bs_function *f = calloc(1, sizeof *f);
    if (!f || !h_add(&functions, f)) { free(f); RETURN(CUDA_ERROR_OUT_OF_MEMORY); }
    f->module = m;
    f->kernel = k;
    *pf = f;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuFuncGetAttribute(int *pi, int attrib, CUfunction f) {
    ENTER_CTX("cuFuncGetAttribute")
    if (!pi) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (!h_has(&functions, f)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    switch (attrib) {
        case 0: *pi = 1024; break; /* MAX_THREADS_PER_BLOCK */
        case 4: *pi = 32; break;   /* NUM_REGS */
        case 5: case 6: *pi = 90; break; /* PTX_VERSION, BINARY_VERSION */
        default:
            if (attrib < 0 || attrib > 16) RETURN(CUDA_ERROR_INVALID_VALUE);
            *pi = 0;
    }
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuFuncSetAttribute(CUfunction f, int attrib, int value) {
    ENTER_CTX("cuFuncSetAttribute")
    (void) value;
    if (!h_has(&functions, f)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (attrib < 0 || attrib > 16) RETURN(CUDA_ERROR_INVALID_VALUE);
    RETURN(CUDA_SUCCESS);
}

/* ---------------- launches and graphs ---------------- */

static size_t type_size(enum bs_type t) { return t == T_I32 || t == T_F32 ? 4 : 8; }

/* every non-optional pointer inside a live allocation (an optional one may also be 0) */
static int args_valid(const bs_kernel *k, const bs_arg *a) {
    for (int i = 0; i < k->nargs; i++) {
        if (k->types[i] == T_OPT && a[i].p == 0) continue;
        if ((k->types[i] == T_PTR || k->types[i] == T_OPT) && !dev_range(a[i].p, 0)) return 0;
    }
    return 1;
}

static CUresult run_kernel(const node *n) {
    if (!args_valid(n->kernel, n->args)) return CUDA_ERROR_INVALID_VALUE;
    logf_("launch %s grid=%u,%u,%u", n->kernel->name, n->grid[0], n->grid[1], n->grid[2]);
    n->kernel->run(n->args);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned shared, CUstream s, void **params, void **extra) {
    ENTER_CTX("cuLaunchKernel")
    (void) shared;
    if (!h_has(&functions, f)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    const bs_kernel *k = f->kernel;
    node n = {.kind = N_KERNEL, .kernel = k, .grid = {gx, gy, gz}};
    if (params) {
        for (int i = 0; i < k->nargs; i++) {
            if (!params[i]) RETURN(CUDA_ERROR_INVALID_VALUE);
            memcpy(&n.args[i], params[i], type_size(k->types[i]));
        }
    } else if (extra) {
        /* {CU_LAUNCH_PARAM_BUFFER_POINTER 1, buf, CU_LAUNCH_PARAM_BUFFER_SIZE 2, &size, CU_LAUNCH_PARAM_END 0} */
        const char *buf = NULL;
        size_t size = 0;
        for (int i = 0; extra[i] != NULL; i += 2) {
            if (extra[i] == (void *) 1) buf = extra[i + 1];
            else if (extra[i] == (void *) 2) size = *(size_t *) extra[i + 1];
            else RETURN(CUDA_ERROR_INVALID_VALUE);
        }
        if (!buf) RETURN(CUDA_ERROR_INVALID_VALUE);
        size_t off = 0;
        for (int i = 0; i < k->nargs; i++) {
            size_t sz = type_size(k->types[i]);
            off = (off + sz - 1) / sz * sz;
            if (off + sz > size) RETURN(CUDA_ERROR_INVALID_VALUE);
            memcpy(&n.args[i], buf + off, sz);
            off += sz;
        }
    } else {
        RETURN(CUDA_ERROR_INVALID_VALUE);
    }
    unsigned g[3], b[3];
    k->geometry(n.args, g, b);
    if (gx != g[0] || gy != g[1] || gz != g[2] || bx != b[0] || by != b[1] || bz != b[2]) {
        RETURN(CUDA_ERROR_INVALID_VALUE);
    }
    if (gx == 0 || gy == 0 || gz == 0 || gy > 65535 || gz > 65535) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (!args_valid(k, n.args)) RETURN(CUDA_ERROR_INVALID_VALUE);
    RETURN(stream_op(s, &n, run_kernel));
}

/* host work on a stream (the stand-in cuBLASLt's GEMMs): recorded when the stream captures, the data copied */
static CUresult run_host(const node *n) {
    n->fn(n->data);
    return CUDA_SUCCESS;
}

EXPORT CUresult basalt_standin_cuda_enqueue(CUstream s, const char *what, void (*fn)(void *), const void *data,
                                            size_t size) {
    ENTER_CTX("basalt_standin_cuda_enqueue")
    if (!fn) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (!stream_ok(s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (s && s->capture) {
        void *copy = malloc(size ? size : 1);
        if (!copy) RETURN(CUDA_ERROR_OUT_OF_MEMORY);
        memcpy(copy, data, size);
        node n = {.kind = N_HOST, .fn = fn, .data = copy, .dsize = size};
        CUresult c = stream_op(s, &n, run_host);
        if (c) free(copy);
        RETURN(c);
    }
    if (!s && capturing_count > 0) RETURN(capture_forbidden());
    logf_("launch %s grid=1,1,1", what ? what : "host");
    fn((void *) data);
    RETURN(CUDA_SUCCESS);
}

static void graph_free(CUgraph g) {
    for (size_t i = 0; i < g->n; i++) if (g->nodes[i].kind == N_HOST) free(g->nodes[i].data);
    h_del(&graphs, g);
    free(g->nodes);
    free(g);
}

EXPORT CUresult cuStreamBeginCapture_v2(CUstream s, int mode) {
    ENTER_CTX("cuStreamBeginCapture_v2")
    if (mode < 0 || mode > 2) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (s == NULL) RETURN(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    if (!h_has(&streams, s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (s->capture) RETURN(CUDA_ERROR_ILLEGAL_STATE);
    CUgraph g = calloc(1, sizeof *g);
    if (!g) RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    g->id = ++graph_ids;
    s->capture = g;
    capturing_count++;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuStreamEndCapture(CUstream s, CUgraph *pg) {
    ENTER_CTX("cuStreamEndCapture")
    if (!pg) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (!s || !h_has(&streams, s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    CUgraph g = s->capture;
    if (!g) RETURN(CUDA_ERROR_ILLEGAL_STATE);
    s->capture = NULL;
    capturing_count--;
    if (g->invalid) {
        h_add(&graphs, g);
        graph_free(g);
        *pg = NULL;
        RETURN(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
    }
    if (!h_add(&graphs, g)) { free(g->nodes); free(g); RETURN(CUDA_ERROR_OUT_OF_MEMORY); }
    *pg = g;
    RETURN(CUDA_SUCCESS);
}

/* CUstreamCaptureStatus: NONE 0, ACTIVE 1, INVALIDATED 2 */
EXPORT CUresult cuStreamIsCapturing(CUstream s, int *status) {
    ENTER_CTX("cuStreamIsCapturing")
    if (!status) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (!stream_ok(s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (s == NULL) {
        *status = capturing_count > 0 ? 1 : 0;
        RETURN(CUDA_SUCCESS);
    }
    *status = s->capture ? (s->capture->invalid ? 2 : 1) : 0;
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec *pe, CUgraph g, unsigned long long flags) {
    ENTER_CTX("cuGraphInstantiateWithFlags")
    if (!pe || (flags & ~15ULL)) RETURN(CUDA_ERROR_INVALID_VALUE);
    if (!h_has(&graphs, g)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    struct bs_graph_exec *e = calloc(1, sizeof *e);
    if (!e) RETURN(CUDA_ERROR_OUT_OF_MEMORY);
    e->id = g->id;
    e->n = g->n;
    e->nodes = malloc((g->n ? g->n : 1) * sizeof(node));
    if (!e->nodes || !h_add(&execs, e)) { free(e->nodes); free(e); RETURN(CUDA_ERROR_OUT_OF_MEMORY); }
    memcpy(e->nodes, g->nodes, g->n * sizeof(node));
    for (size_t i = 0; i < e->n; i++) {
        if (e->nodes[i].kind != N_HOST) continue;
        /* host nodes own their data: the exec gets its own copy (the graph may be destroyed first) */
        e->nodes[i].data = malloc(g->nodes[i].dsize ? g->nodes[i].dsize : 1);
        if (e->nodes[i].data) memcpy(e->nodes[i].data, g->nodes[i].data, g->nodes[i].dsize);
    }
    *pe = e;
    RETURN(CUDA_SUCCESS);
}

static CUresult replay(struct bs_graph_exec *e) {
    logf_("graph %d nodes=%zu", e->id, e->n);
    for (size_t i = 0; i < e->n; i++) {
        const node *n = &e->nodes[i];
        switch (n->kind) {
            case N_KERNEL:
                if (!args_valid(n->kernel, n->args)) return CUDA_ERROR_ILLEGAL_ADDRESS;
                n->kernel->run(n->args);
                break;
            case N_COPY: run_copy(n); break;
            case N_SET8: case N_SET32: run_set(n); break;
            case N_HOST: n->fn(n->data); break;
        }
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphLaunch(CUgraphExec e, CUstream s) {
    ENTER_CTX("cuGraphLaunch")
    if (!h_has(&execs, e) || !stream_ok(s)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    if (s && s->capture) RETURN(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
    if (!s && capturing_count > 0) RETURN(capture_forbidden());
    RETURN(replay(e));
}

EXPORT CUresult cuGraphExecDestroy(CUgraphExec e) {
    ENTER_CTX("cuGraphExecDestroy")
    if (!h_has(&execs, e)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    h_del(&execs, e);
    for (size_t i = 0; i < e->n; i++) if (e->nodes[i].kind == N_HOST) free(e->nodes[i].data);
    free(e->nodes);
    free(e);
    RETURN(CUDA_SUCCESS);
}

EXPORT CUresult cuGraphDestroy(CUgraph g) {
    ENTER_CTX("cuGraphDestroy")
    if (!h_has(&graphs, g)) RETURN(CUDA_ERROR_INVALID_HANDLE);
    graph_free(g);
    RETURN(CUDA_SUCCESS);
}

/* ---------------- cuGetProcAddress_v2 ---------------- */

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, unsigned long long flags,
                                    int *status);
#define PROC(base, sym, since) {base, (void *) sym, since}
static const struct { const char *name; void *fn; int since; } procs[] = {
    PROC("cuInit", cuInit, 2000),
    PROC("cuDriverGetVersion", cuDriverGetVersion, 2020),
    PROC("cuGetErrorName", cuGetErrorName, 6000),
    PROC("cuGetErrorString", cuGetErrorString, 6000),
    PROC("cuDeviceGetCount", cuDeviceGetCount, 2000),
    PROC("cuDeviceGet", cuDeviceGet, 2000),
    PROC("cuDeviceGetName", cuDeviceGetName, 2000),
    PROC("cuDeviceGetAttribute", cuDeviceGetAttribute, 2000),
    PROC("cuDeviceTotalMem", cuDeviceTotalMem_v2, 3020),
    PROC("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain, 7000),
    PROC("cuDevicePrimaryCtxRelease", cuDevicePrimaryCtxRelease_v2, 11000),
    PROC("cuCtxSetCurrent", cuCtxSetCurrent, 4000),
    PROC("cuCtxGetCurrent", cuCtxGetCurrent, 4000),
    PROC("cuCtxSynchronize", cuCtxSynchronize, 2000),
    PROC("cuMemAlloc", cuMemAlloc_v2, 3020),
    PROC("cuMemFree", cuMemFree_v2, 3020),
    PROC("cuMemGetInfo", cuMemGetInfo_v2, 3020),
    PROC("cuMemHostAlloc", cuMemHostAlloc, 2020),
    PROC("cuMemAllocHost", cuMemAllocHost_v2, 3020),
    PROC("cuMemFreeHost", cuMemFreeHost, 2000),
    PROC("cuMemcpyHtoD", cuMemcpyHtoD_v2, 3020),
    PROC("cuMemcpyDtoH", cuMemcpyDtoH_v2, 3020),
    PROC("cuMemcpyDtoD", cuMemcpyDtoD_v2, 3020),
    PROC("cuMemcpyHtoDAsync", cuMemcpyHtoDAsync_v2, 3020),
    PROC("cuMemcpyDtoHAsync", cuMemcpyDtoHAsync_v2, 3020),
    PROC("cuMemcpyDtoDAsync", cuMemcpyDtoDAsync_v2, 3020),
    PROC("cuMemsetD8", cuMemsetD8_v2, 3020),
    PROC("cuMemsetD32", cuMemsetD32_v2, 3020),
    PROC("cuMemsetD8Async", cuMemsetD8Async, 3020),
    PROC("cuMemsetD32Async", cuMemsetD32Async, 3020),
    PROC("cuStreamCreate", cuStreamCreate, 2000),
    PROC("cuStreamSynchronize", cuStreamSynchronize, 2000),
    PROC("cuStreamQuery", cuStreamQuery, 2000),
    PROC("cuStreamDestroy", cuStreamDestroy_v2, 4000),
    PROC("cuEventCreate", cuEventCreate, 2000),
    PROC("cuEventRecord", cuEventRecord, 2000),
    PROC("cuEventQuery", cuEventQuery, 2000),
    PROC("cuEventSynchronize", cuEventSynchronize, 2000),
    PROC("cuEventElapsedTime", cuEventElapsedTime_v2, 12080),
    PROC("cuEventElapsedTime", cuEventElapsedTime, 2000),
    PROC("cuEventDestroy", cuEventDestroy_v2, 4000),
    PROC("cuModuleLoadData", cuModuleLoadData, 2000),
    PROC("cuModuleLoadDataEx", cuModuleLoadDataEx, 2010),
    PROC("cuModuleUnload", cuModuleUnload, 2000),
    PROC("cuModuleGetFunction", cuModuleGetFunction, 2000),
    PROC("cuFuncGetAttribute", cuFuncGetAttribute, 2020),
    PROC("cuFuncSetAttribute", cuFuncSetAttribute, 9000),
    PROC("cuLaunchKernel", cuLaunchKernel, 4000),
    PROC("cuStreamBeginCapture", cuStreamBeginCapture_v2, 10010),
    PROC("cuStreamEndCapture", cuStreamEndCapture, 10000),
    PROC("cuStreamIsCapturing", cuStreamIsCapturing, 10000),
    PROC("cuGraphInstantiateWithFlags", cuGraphInstantiateWithFlags, 11040),
    PROC("cuGraphLaunch", cuGraphLaunch, 10000),
    PROC("cuGraphExecDestroy", cuGraphExecDestroy, 10000),
    PROC("cuGraphDestroy", cuGraphDestroy, 10000),
    PROC("cuGetProcAddress", cuGetProcAddress_v2, 12000),
};

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, unsigned long long flags,
                                    int *status) {
    pthread_mutex_lock(&lock);
    CUresult rc = injected("cuGetProcAddress_v2");
    pthread_mutex_unlock(&lock);
    if (rc) return rc;
    if (!symbol || !pfn || flags > 2) return CUDA_ERROR_INVALID_VALUE;
    if (version > DRIVER_VERSION) return CUDA_ERROR_INVALID_VALUE;
    *pfn = NULL;
    int found = 0;
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++) {
        if (strcmp(procs[i].name, symbol)) continue;
        found = 1;
        if (procs[i].since <= version) { /* entries of one name are listed newest first */
            *pfn = procs[i].fn;
            if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
            return CUDA_SUCCESS;
        }
    }
    if (status) *status = found ? CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    return CUDA_SUCCESS;
}
