/*
 * The stand-in libnrt.so.1 (TEST ONLY, never shipped): the libnrt ABI of nrt_abi.h over host memory, so the bridge,
 * the backend and the runner are exercised on machines without Inferentia (docs/NEURON.md §4).
 *
 * It enforces what libnrt enforces (init/close order, core locks, handle liveness, exact tensor sizes, collective
 * grouping) and executes the stand-in graph description that follows the NEFF header: a Llama prefill or decode step
 * in plain fp32, per rank under tensor parallelism, with all-reduces between the ranks' threads.
 * Test hooks: basalt_standin_fail (status injection), basalt_standin_log, basalt_standin_reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nrt_abi.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_CORES 64
#define MAX_WORLD 64
#define MAX_DIMS 8

/* ---------------------------------------------------------------- global state (guarded by g_lock) */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
enum { STATE_NEW, STATE_OPEN, STATE_CLOSED };
static int g_state = STATE_NEW;
static int g_nvisible;
static int g_visible[MAX_CORES]; /* physical core of each visible (relative) core */
static int g_lock_fds[MAX_CORES];

/* Live handles: a pointer is only dereferenced after it is found here, so stale handles give NRT_INVALID_HANDLE. */
typedef struct { void **items; size_t n, cap; } registry_t;
static registry_t g_tensors, g_models, g_sets;

static int reg_add(registry_t *r, void *p) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        void **items = realloc(r->items, cap * sizeof *items);
        if (items == NULL) return 0;
        r->items = items;
        r->cap = cap;
    }
    r->items[r->n++] = p;
    return 1;
}

static int reg_has(const registry_t *r, const void *p) {
    if (p == NULL) return 0;
    for (size_t i = 0; i < r->n; i++) if (r->items[i] == p) return 1;
    return 0;
}

static int reg_remove(registry_t *r, const void *p) {
    for (size_t i = 0; i < r->n; i++) {
        if (r->items[i] == p) {
            r->items[i] = r->items[--r->n];
            return 1;
        }
    }
    return 0;
}

static void complain(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("basalt-standin: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---------------------------------------------------------------- status injection and the execution log */

typedef struct { char call[64]; int status; int skip; } failure_t;
static failure_t *g_failures;
static size_t g_nfailures, g_capfailures;
static char *g_log;
static size_t g_loglen, g_logcap;

/* The status to return for this call, if a test asked for one; g_lock held. */
static int injected(const char *call) {
    for (size_t i = 0; i < g_nfailures; i++) {
        if (strcmp(g_failures[i].call, call) != 0) continue;
        if (g_failures[i].skip > 0) {
            g_failures[i].skip--;
            return 0;
        }
        int status = g_failures[i].status;
        memmove(&g_failures[i], &g_failures[i + 1], (g_nfailures - i - 1) * sizeof *g_failures);
        g_nfailures--;
        return status;
    }
    return 0;
}

EXPORT int basalt_standin_fail(const char *call, int status, int skip) {
    if (call == NULL || strlen(call) >= sizeof g_failures[0].call || skip < 0) return -1;
    pthread_mutex_lock(&g_lock);
    int ok = 1;
    if (g_nfailures == g_capfailures) {
        size_t cap = g_capfailures ? g_capfailures * 2 : 8;
        failure_t *f = realloc(g_failures, cap * sizeof *f);
        if (f == NULL) ok = 0; else { g_failures = f; g_capfailures = cap; }
    }
    if (ok) {
        failure_t *f = &g_failures[g_nfailures++];
        strcpy(f->call, call);
        f->status = status;
        f->skip = skip;
    }
    pthread_mutex_unlock(&g_lock);
    return ok ? 0 : -1;
}

/* Copies the log into buf (NUL-terminated, cut to cap); returns its full length without the NUL, as snprintf. */
EXPORT size_t basalt_standin_log(char *buf, size_t cap) {
    pthread_mutex_lock(&g_lock);
    size_t n = g_loglen;
    if (buf != NULL && cap > 0) {
        size_t k = n < cap - 1 ? n : cap - 1;
        if (k > 0) memcpy(buf, g_log, k);
        buf[k] = 0;
    }
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* Also returns a closed runtime to "never initialized", so one test JVM can check both NRT_UNINITIALIZED and NRT_CLOSED. */
EXPORT void basalt_standin_reset(void) {
    pthread_mutex_lock(&g_lock);
    if (g_state == STATE_CLOSED) g_state = STATE_NEW;
    g_nfailures = 0;
    g_loglen = 0;
    pthread_mutex_unlock(&g_lock);
}

static void log_line(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    pthread_mutex_lock(&g_lock);
    if (g_loglen + len + 2 > g_logcap) {
        size_t cap = (g_logcap + len + 2) * 2;
        char *p = realloc(g_log, cap);
        if (p != NULL) { g_log = p; g_logcap = cap; }
    }
    if (g_loglen + len + 2 <= g_logcap) {
        memcpy(g_log + g_loglen, line, len);
        g_loglen += len;
        g_log[g_loglen++] = '\n';
        g_log[g_loglen] = 0;
    }
    pthread_mutex_unlock(&g_lock);
}

/* ---------------------------------------------------------------- SHA-256 (the NEFF header's hash of the data) */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha256(const uint8_t *data, size_t n, uint8_t out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    size_t i = 0;
    for (; i + 64 <= n; i += 64) sha256_block(h, data + i);
    uint8_t tail[128] = {0};
    size_t rest = n - i;
    memcpy(tail, data + i, rest);
    tail[rest] = 0x80;
    size_t blocks = rest + 9 <= 64 ? 1 : 2;
    uint64_t bits = (uint64_t)n * 8;
    for (int b = 0; b < 8; b++) tail[blocks * 64 - 1 - b] = (uint8_t)(bits >> (8 * b));
    for (size_t b = 0; b < blocks; b++) sha256_block(h, tail + 64 * b);
    for (int j = 0; j < 8; j++) for (int b = 0; b < 4; b++) out[4 * j + b] = (uint8_t)(h[j] >> (24 - 8 * b));
}

/* ---------------------------------------------------------------- handles */

struct nrt_tensor {
    int vnc;
    size_t size;
    unsigned char *data;
    char name[64];
};

typedef struct { char name[NRT_TENSOR_NAME_MAX]; nrt_tensor_t *tensor; } set_entry_t;
typedef struct { set_entry_t *entries; size_t n, cap; } tensor_set_t;

enum { DT_INT32, DT_F32, DT_BF16 };

typedef struct {
    char name[NRT_TENSOR_NAME_MAX];
    int input;
    int dtype;
    uint32_t shape[MAX_DIMS];
    uint32_t ndim;
    size_t size;
    char kind[64];
    char alias[NRT_TENSOR_NAME_MAX];
} tdesc_t;

typedef struct {
    int decode;
    int layers, hidden, heads, kv_heads, head_dim, ffn, vocab;
    float rms_eps, rope_theta;
    int rotary_dims, rope_half;
    int batch, length, kv_length, max_batch, max_length, tp_world;
    int weight_dtype, token_ids;
} config_t;

/* The ranks of one collective NEFF (same hash, same world): a generation barrier plus the all-reduce buffers. */
typedef struct group {
    struct group *next;
    uint8_t hash[32];
    int world, refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
    unsigned long generation;
    const float *bufs[MAX_WORLD];
} group_t;

static group_t *g_groups; /* guarded by g_lock */

struct nrt_model {
    int vnc, rank, world;
    uint8_t hash[32];
    char name[257];
    config_t c;
    tdesc_t *t;
    size_t nt;
    group_t *group;
};

/* Checks the runtime is open; g_lock held. */
static int state_status(void) {
    if (g_state == STATE_NEW) return NRT_UNINITIALIZED;
    if (g_state == STATE_CLOSED) return NRT_CLOSED;
    return NRT_SUCCESS;
}

/* Common prologue of an nrt_* call that needs nrt_init: the injected status, else the runtime state. */
static int enter(const char *call) {
    pthread_mutex_lock(&g_lock);
    int status = injected(call);
    if (status == 0) status = state_status();
    if (status != 0) pthread_mutex_unlock(&g_lock);
    return status;
}

/* ---------------------------------------------------------------- cores, init and close */

static int env_int(const char *name, int fallback) {
    const char *v = getenv(name);
    if (v == NULL || *v == 0) return fallback;
    char *end;
    long n = strtol(v, &end, 10);
    return *end == 0 && n >= 0 && n <= 1000000000 ? (int)n : fallback;
}

/* BASALT_STANDIN_CORES cores exist; NEURON_RT_VISIBLE_CORES ("3", "2-3", "0,1") narrows them. */
static void compute_visible(void) {
    int total = env_int("BASALT_STANDIN_CORES", 2);
    if (total > MAX_CORES) total = MAX_CORES;
    g_nvisible = 0;
    const char *v = getenv("NEURON_RT_VISIBLE_CORES");
    if (v == NULL || *v == 0) {
        for (int i = 0; i < total; i++) g_visible[g_nvisible++] = i;
        return;
    }
    const char *p = v;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p) return; /* malformed: nothing visible, as an unusable setting should be */
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1) return;
            p = end;
        }
        for (long i = a; i <= b; i++) if (i >= 0 && i < total && g_nvisible < MAX_CORES) g_visible[g_nvisible++] = (int)i;
        if (*p == ',') p++;
        else if (*p) return;
    }
}

static NRT_STATUS visible_count(const char *call, uint32_t *count) {
    pthread_mutex_lock(&g_lock);
    int status = injected(call);
    if (status == 0) {
        if (count == NULL) status = NRT_INVALID;
        else {
            compute_visible();
            *count = (uint32_t)g_nvisible;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return status;
}

EXPORT NRT_STATUS nrt_get_visible_nc_count(uint32_t *count) { return visible_count("nrt_get_visible_nc_count", count); }
EXPORT NRT_STATUS nrt_get_visible_vnc_count(uint32_t *count) { return visible_count("nrt_get_visible_vnc_count", count); }
EXPORT NRT_STATUS nrt_get_total_nc_count(uint32_t *count) {
    if (count == NULL) return NRT_INVALID;
    *count = (uint32_t)env_int("BASALT_STANDIN_CORES", 2);
    return NRT_SUCCESS;
}
EXPORT NRT_STATUS nrt_get_total_vnc_count(uint32_t *count) { return nrt_get_total_nc_count(count); }

EXPORT NRT_STATUS nrt_get_version(nrt_version_t *ver, size_t size) {
    pthread_mutex_lock(&g_lock);
    int status = injected("nrt_get_version");
    pthread_mutex_unlock(&g_lock);
    if (status != 0) return status;
    if (ver == NULL || size < sizeof *ver) return NRT_INVALID;
    memset(ver, 0, sizeof *ver);
    ver->rt_major = 2;
    ver->rt_minor = 0;
    ver->rt_patch = 0;
    ver->rt_maintenance = 0;
    snprintf(ver->rt_detail, sizeof ver->rt_detail, "basalt-standin");
    snprintf(ver->git_hash, sizeof ver->git_hash, "standin");
    return NRT_SUCCESS;
}

EXPORT const char *nrt_get_status_as_str(NRT_STATUS status) {
    const char *name = basalt_nrt_status_name(status);
    return name != NULL ? name : "NRT_UNKNOWN_STATUS";
}

static void release_cores(void) {
    for (int i = 0; i < g_nvisible; i++) {
        if (g_lock_fds[i] >= 0) close(g_lock_fds[i]); /* closing the descriptor drops its flock */
        g_lock_fds[i] = -1;
    }
}

/* Claims every visible core with an flock, as libnrt claims cores exclusively per process. */
EXPORT NRT_STATUS nrt_init(nrt_framework_type_t framework, const char *fw_version, const char *fal_version) {
    (void)framework; (void)fw_version; (void)fal_version;
    pthread_mutex_lock(&g_lock);
    int status = injected("nrt_init");
    if (status == 0 && g_state == STATE_OPEN) status = NRT_FAILURE; /* already initialized */
    if (status == 0) {
        compute_visible();
        const char *dir = getenv("BASALT_STANDIN_LOCK_DIR");
        if (dir == NULL || *dir == 0) dir = "/tmp";
        mkdir(dir, 0777); /* may exist already; open below reports a real problem */
        for (int i = 0; i < g_nvisible; i++) g_lock_fds[i] = -1;
        for (int i = 0; i < g_nvisible && status == 0; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/basalt-standin-core-%d.lock", dir, g_visible[i]);
            int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
            if (fd < 0) {
                complain("cannot open %s: %s", path, strerror(errno));
                status = NRT_RESOURCE;
            } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
                complain("core %d is held by another process (%s)", g_visible[i], path);
                close(fd);
                status = NRT_RESOURCE;
            } else {
                g_lock_fds[i] = fd;
            }
        }
        if (status != 0) release_cores();
        else g_state = STATE_OPEN;
    }
    pthread_mutex_unlock(&g_lock);
    return status;
}

static void free_model(nrt_model_t *m);

/* Releases the cores and everything still allocated; a later nrt_init starts afresh (tests reuse the process). */
EXPORT void nrt_close(void) {
    pthread_mutex_lock(&g_lock);
    if (g_state == STATE_OPEN) {
        release_cores();
        for (size_t i = 0; i < g_tensors.n; i++) {
            nrt_tensor_t *t = g_tensors.items[i];
            free(t->data);
            free(t);
        }
        g_tensors.n = 0;
        for (size_t i = 0; i < g_sets.n; i++) {
            tensor_set_t *s = g_sets.items[i];
            free(s->entries);
            free(s);
        }
        g_sets.n = 0;
        while (g_models.n > 0) {
            nrt_model_t *m = g_models.items[--g_models.n];
            free_model(m);
        }
        g_state = STATE_CLOSED;
    }
    pthread_mutex_unlock(&g_lock);
}

/* ---------------------------------------------------------------- tensors and tensor sets */

EXPORT NRT_STATUS nrt_tensor_allocate(nrt_tensor_placement_t placement, int vnc, size_t size, const char *name,
                                      nrt_tensor_t **tensor) {
    int status = enter("nrt_tensor_allocate");
    if (status != 0) return status;
    if (tensor == NULL || size == 0 || placement < NRT_TENSOR_PLACEMENT_DEVICE ||
        placement > NRT_TENSOR_PLACEMENT_VIRTUAL || vnc < 0 || vnc >= g_nvisible) {
        status = NRT_INVALID;
    } else {
        nrt_tensor_t *t = calloc(1, sizeof *t);
        unsigned char *data = calloc(1, size);
        if (t == NULL || data == NULL || !reg_add(&g_tensors, t)) {
            free(t);
            free(data);
            status = NRT_RESOURCE;
        } else {
            t->vnc = vnc;
            t->size = size;
            t->data = data;
            snprintf(t->name, sizeof t->name, "%s", name != NULL ? name : "");
            *tensor = t;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return status;
}

EXPORT void nrt_tensor_free(nrt_tensor_t **tensor) {
    if (tensor == NULL) return;
    pthread_mutex_lock(&g_lock);
    if (reg_remove(&g_tensors, *tensor)) {
        free((*tensor)->data);
        free(*tensor);
    }
    *tensor = NULL;
    pthread_mutex_unlock(&g_lock);
}

EXPORT size_t nrt_tensor_get_size(const nrt_tensor_t *tensor) {
    pthread_mutex_lock(&g_lock);
    size_t size = reg_has(&g_tensors, tensor) ? tensor->size : 0;
    pthread_mutex_unlock(&g_lock);
    return size;
}

static NRT_STATUS copy_tensor(const char *call, const nrt_tensor_t *tensor, void *host, const void *src, size_t offset,
                              size_t size) {
    int status = enter(call);
    if (status != 0) return status;
    if (!reg_has(&g_tensors, tensor)) status = NRT_INVALID_HANDLE;
    else if ((host == NULL && src == NULL) || offset > tensor->size || size > tensor->size - offset) status = NRT_INVALID;
    else if (host != NULL) memcpy(host, tensor->data + offset, size);
    else memcpy(tensor->data + offset, src, size);
    pthread_mutex_unlock(&g_lock);
    return status;
}

EXPORT NRT_STATUS nrt_tensor_read(const nrt_tensor_t *tensor, void *buf, size_t offset, size_t size) {
    return copy_tensor("nrt_tensor_read", tensor, buf, NULL, offset, size);
}

EXPORT NRT_STATUS nrt_tensor_write(nrt_tensor_t *tensor, const void *buf, size_t offset, size_t size) {
    return copy_tensor("nrt_tensor_write", tensor, NULL, buf, offset, size);
}

/* As libnrt: both tensors on the same core (else NRT_INVALID); overlapping ranges are allowed (memmove). */
EXPORT NRT_STATUS nrt_tensor_copy(const nrt_tensor_t *src, size_t src_offset, nrt_tensor_t *dst, size_t dst_offset, size_t size) {
    int status = enter("nrt_tensor_copy");
    if (status != 0) return status;
    if (!reg_has(&g_tensors, src) || !reg_has(&g_tensors, dst)) status = NRT_INVALID_HANDLE;
    else if (src->vnc != dst->vnc || src_offset > src->size || size > src->size - src_offset || dst_offset > dst->size
             || size > dst->size - dst_offset) status = NRT_INVALID;
    else memmove(dst->data + dst_offset, src->data + src_offset, size);
    pthread_mutex_unlock(&g_lock);
    return status;
}

EXPORT NRT_STATUS nrt_allocate_tensor_set(nrt_tensor_set_t **result) {
    int status = enter("nrt_allocate_tensor_set");
    if (status != 0) return status;
    tensor_set_t *s = result != NULL ? calloc(1, sizeof *s) : NULL;
    if (result == NULL) status = NRT_INVALID;
    else if (s == NULL || !reg_add(&g_sets, s)) { free(s); status = NRT_RESOURCE; }
    else *result = s;
    pthread_mutex_unlock(&g_lock);
    return status;
}

EXPORT void nrt_destroy_tensor_set(nrt_tensor_set_t **set) {
    if (set == NULL) return;
    pthread_mutex_lock(&g_lock);
    if (reg_remove(&g_sets, *set)) {
        tensor_set_t *s = *set;
        free(s->entries);
        free(s);
    }
    *set = NULL;
    pthread_mutex_unlock(&g_lock);
}

/* A set holds pointers only (libnrt semantics): the tensor must outlive it. The same name again replaces. */
EXPORT NRT_STATUS nrt_add_tensor_to_tensor_set(nrt_tensor_set_t *set, const char *name, nrt_tensor_t *tensor) {
    int status = enter("nrt_add_tensor_to_tensor_set");
    if (status != 0) return status;
    tensor_set_t *s = set;
    if (!reg_has(&g_sets, s) || !reg_has(&g_tensors, tensor)) status = NRT_INVALID_HANDLE;
    else if (name == NULL || strlen(name) >= NRT_TENSOR_NAME_MAX) status = NRT_INVALID;
    else {
        size_t i = 0;
        while (i < s->n && strcmp(s->entries[i].name, name) != 0) i++;
        if (i == s->n) {
            if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                set_entry_t *e = realloc(s->entries, cap * sizeof *e);
                if (e == NULL) status = NRT_RESOURCE;
                else { s->entries = e; s->cap = cap; }
            }
            if (status == 0) strcpy(s->entries[s->n++].name, name);
        }
        if (status == 0) s->entries[i].tensor = tensor;
    }
    pthread_mutex_unlock(&g_lock);
    return status;
}

/* ---------------------------------------------------------------- NEFF header and graph description */

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int dtype_size(int dt) { return dt == DT_BF16 ? 2 : 4; }

static int parse_dtype(const char *s) {
    if (strcmp(s, "int32") == 0) return DT_INT32;
    if (strcmp(s, "f32") == 0) return DT_F32;
    if (strcmp(s, "bf16") == 0) return DT_BF16;
    return -1;
}

static int parse_int(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != 0 || v < 0 || v > 1 << 30) return 0;
    *out = (int)v;
    return 1;
}

static int parse_float(const char *s, float *out) {
    /* The JVM may have set a locale with a decimal comma; the description is always "C". */
    static locale_t c_locale;
    if (c_locale == (locale_t)0) c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    char *end;
    double v = strtod_l(s, &end, c_locale);
    if (end == s || *end != 0) return 0;
    *out = (float)v;
    return 1;
}

/* One "tensor NAME in|out DTYPE D0,D1,.. KIND [alias=NAME]" line; fields already split. */
static int parse_tensor(char **f, int nf, tdesc_t *t) {
    if (nf < 6 || nf > 7) return 0;
    memset(t, 0, sizeof *t);
    if (strlen(f[1]) >= sizeof t->name || strlen(f[5]) >= sizeof t->kind) return 0;
    strcpy(t->name, f[1]);
    if (strcmp(f[2], "in") == 0) t->input = 1;
    else if (strcmp(f[2], "out") != 0) return 0;
    if ((t->dtype = parse_dtype(f[3])) < 0) return 0;
    size_t count = 1;
    char *p = f[4];
    while (*p) {
        char *end;
        long d = strtol(p, &end, 10);
        if (end == p || d <= 0 || t->ndim == MAX_DIMS) return 0;
        t->shape[t->ndim++] = (uint32_t)d;
        count *= (size_t)d;
        p = end;
        if (*p == ',') p++;
        else if (*p) return 0;
    }
    if (t->ndim == 0) return 0;
    t->size = count * (size_t)dtype_size(t->dtype);
    strcpy(t->kind, f[5]);
    if (nf == 7) {
        if (strncmp(f[6], "alias=", 6) != 0 || strlen(f[6] + 6) >= sizeof t->alias) return 0;
        strcpy(t->alias, f[6] + 6);
    }
    return 1;
}

static const tdesc_t *find_kind(const nrt_model_t *m, const char *kind, int input) {
    for (size_t i = 0; i < m->nt; i++) if (m->t[i].input == input && strcmp(m->t[i].kind, kind) == 0) return &m->t[i];
    return NULL;
}

static const tdesc_t *find_name(const nrt_model_t *m, const char *name) {
    for (size_t i = 0; i < m->nt; i++) if (strcmp(m->t[i].name, name) == 0) return &m->t[i];
    return NULL;
}

/* The tensor of this kind must exist with exactly this dtype and shape (dims terminated by 0). */
static int expect(const nrt_model_t *m, const char *kind, int input, int dtype, ...) {
    const tdesc_t *t = find_kind(m, kind, input);
    if (t == NULL) {
        if (input == 1 && strcmp(kind, "sampling_params") == 0) return 1; /* optional */
        complain("%s: no %s %s", m->name, input ? "input" : "output", kind);
        return 0;
    }
    if (dtype >= 0 && t->dtype != dtype) {
        complain("%s: %s has the wrong dtype", m->name, kind);
        return 0;
    }
    va_list ap;
    va_start(ap, dtype);
    uint32_t n = 0;
    int ok = 1;
    for (int d = va_arg(ap, int); d != 0; d = va_arg(ap, int), n++) if (n >= t->ndim || t->shape[n] != (uint32_t)d) ok = 0;
    va_end(ap);
    if (!ok || n != t->ndim) complain("%s: %s has the wrong shape", m->name, kind);
    return ok && n == t->ndim;
}

/* Every tensor the forward pass reads or writes, with its per-rank shape. */
static int validate(nrt_model_t *m) {
    const config_t *c = &m->c;
    int tp = c->tp_world;
    if (tp < 1 || c->heads % tp || c->kv_heads % tp || c->ffn % tp || c->heads % c->kv_heads || c->rotary_dims % 2 ||
        c->rotary_dims > c->head_dim || (c->decode && c->length != 1) || (!c->decode && c->kv_length != c->length)) {
        complain("%s: inconsistent dimensions", m->name);
        return 0;
    }
    int B = c->batch, L = c->length, K = c->kv_length, D = c->hidden, hd = c->head_dim;
    int Hr = c->heads / tp, KVr = c->kv_heads / tp, Fr = c->ffn / tp, W = c->weight_dtype;
    int ok = expect(m, "input_ids", 1, DT_INT32, B, L, 0) && expect(m, "attention_mask", 1, DT_INT32, B, K, 0) &&
             expect(m, "position_ids", 1, DT_INT32, B, L, 0) && expect(m, "seq_ids", 1, DT_INT32, B, 0) &&
             expect(m, "sampling_params", 1, DT_F32, B, 3, 0) && expect(m, "tok_embeddings", 1, W, c->vocab, D, 0) &&
             expect(m, "final_norm", 1, W, D, 0) && expect(m, "lm_head", 1, W, c->vocab, D, 0) &&
             (c->token_ids ? expect(m, "token_ids", 0, DT_INT32, B, 0) : expect(m, "logits", 0, DT_F32, B, c->vocab, 0));
    char k[64];
    for (int l = 0; ok && l < c->layers; l++) {
#define W2(name, r, cols) (snprintf(k, sizeof k, "layer.%d." name, l), expect(m, k, 1, W, r, cols, 0))
        ok = (snprintf(k, sizeof k, "layer.%d.attn_norm", l), expect(m, k, 1, W, D, 0)) &&
             (snprintf(k, sizeof k, "layer.%d.ffn_norm", l), expect(m, k, 1, W, D, 0)) && W2("wq", Hr * hd, D) &&
             W2("wk", KVr * hd, D) && W2("wv", KVr * hd, D) && W2("wo", D, Hr * hd) && W2("w_gate", Fr, D) &&
             W2("w_up", Fr, D) && W2("w_down", D, Fr);
#undef W2
        for (int v = 0; ok && v < 2; v++) {
            snprintf(k, sizeof k, "layer.%d.%s", l, v ? "v_cache" : "k_cache");
            ok = expect(m, k, 1, DT_F32, c->max_batch, KVr, c->max_length, hd, 0) &&
                 expect(m, k, 0, DT_F32, c->max_batch, KVr, c->max_length, hd, 0);
            const tdesc_t *in = find_kind(m, k, 1), *out = find_kind(m, k, 0);
            if (ok && (in->alias[0] == 0 || strcmp(in->alias, out->name) != 0)) {
                complain("%s: %s must alias its output %s", m->name, k, out->name);
                ok = 0;
            }
        }
    }
    return ok;
}

#define NKEYS 21

/* Parses the description after the header into m; 0 on any malformed or unknown line. */
static int parse_description(nrt_model_t *m, const char *data, size_t n) {
    char *text = malloc(n + 1);
    if (text == NULL) return 0;
    memcpy(text, data, n);
    text[n] = 0;
    config_t *c = &m->c;
    memset(c, 0, sizeof *c);
    c->rms_eps = -1;
    long seen = 0;
    int ok = 1, first = 1;
    size_t cap = 0;
    char *save_line = NULL;
    for (char *line = strtok_r(text, "\n", &save_line); ok && line != NULL; line = strtok_r(NULL, "\n", &save_line)) {
        char *f[8], *save = NULL;
        int nf = 0;
        for (char *w = strtok_r(line, " \t\r", &save); w != NULL; w = strtok_r(NULL, " \t\r", &save)) {
            if (nf == 8) { ok = 0; break; }
            f[nf++] = w;
        }
        if (nf == 0) continue;
        if (first) {
            ok = nf == 2 && strcmp(f[0], "basalt-standin-graph") == 0 && strcmp(f[1], "1") == 0;
            if (!ok) complain("%s: not a stand-in graph (first line '%s')", m->name, f[0]);
            first = 0;
            continue;
        }
        if (strcmp(f[0], "tensor") == 0) {
            if (m->nt == cap) {
                cap = cap ? cap * 2 : 64;
                tdesc_t *t = realloc(m->t, cap * sizeof *t);
                if (t == NULL) { ok = 0; break; }
                m->t = t;
            }
            ok = parse_tensor(f, nf, &m->t[m->nt]) && (m->nt == 0 || m->t[m->nt - 1].input || !m->t[m->nt].input);
            if (!ok) complain("%s: bad tensor line for %s (or an input after the outputs)", m->name, f[1]);
            m->nt++;
            continue;
        }
        if (nf != 2) { ok = 0; break; }
        const char *k = f[0], *v = f[1];
        /* Each setting exactly once: a duplicate would silently override what the compiler meant. */
        static const char *const keys[] = {"kind", "arch", "layers", "hidden", "heads", "kv_heads", "head_dim", "ffn",
                                           "vocab", "rms_eps", "rope_theta", "rotary_dims", "rope_style", "batch",
                                           "length", "kv_length", "max_batch", "max_length", "tp_world",
                                           "weight_dtype", "output"};
        for (int i = 0; i < NKEYS; i++) {
            if (strcmp(k, keys[i]) != 0) continue;
            if (seen & (1L << i)) { complain("%s: %s given twice", m->name, k); ok = 0; }
            seen |= 1L << i;
        }
        if (!ok) break;
        if (strcmp(k, "kind") == 0) ok = (c->decode = strcmp(v, "decode") == 0) || strcmp(v, "prefill") == 0;
        else if (strcmp(k, "arch") == 0) ok = strcmp(v, "llama") == 0;
        else if (strcmp(k, "layers") == 0) ok = parse_int(v, &c->layers);
        else if (strcmp(k, "hidden") == 0) ok = parse_int(v, &c->hidden);
        else if (strcmp(k, "heads") == 0) ok = parse_int(v, &c->heads);
        else if (strcmp(k, "kv_heads") == 0) ok = parse_int(v, &c->kv_heads);
        else if (strcmp(k, "head_dim") == 0) ok = parse_int(v, &c->head_dim);
        else if (strcmp(k, "ffn") == 0) ok = parse_int(v, &c->ffn);
        else if (strcmp(k, "vocab") == 0) ok = parse_int(v, &c->vocab);
        else if (strcmp(k, "rms_eps") == 0) ok = parse_float(v, &c->rms_eps);
        else if (strcmp(k, "rope_theta") == 0) ok = parse_float(v, &c->rope_theta);
        else if (strcmp(k, "rotary_dims") == 0) ok = parse_int(v, &c->rotary_dims);
        else if (strcmp(k, "rope_style") == 0) ok = (c->rope_half = strcmp(v, "half") == 0) || strcmp(v, "interleaved") == 0;
        else if (strcmp(k, "batch") == 0) ok = parse_int(v, &c->batch);
        else if (strcmp(k, "length") == 0) ok = parse_int(v, &c->length);
        else if (strcmp(k, "kv_length") == 0) ok = parse_int(v, &c->kv_length);
        else if (strcmp(k, "max_batch") == 0) ok = parse_int(v, &c->max_batch);
        else if (strcmp(k, "max_length") == 0) ok = parse_int(v, &c->max_length);
        else if (strcmp(k, "tp_world") == 0) ok = parse_int(v, &c->tp_world);
        else if (strcmp(k, "weight_dtype") == 0) ok = (c->weight_dtype = parse_dtype(v)) == DT_F32 || c->weight_dtype == DT_BF16;
        else if (strcmp(k, "output") == 0) ok = (c->token_ids = strcmp(v, "token_ids") == 0) || strcmp(v, "logits") == 0;
        else { complain("%s: unknown description line '%s'", m->name, k); ok = 0; }
        if (!ok) complain("%s: bad value for %s: %s", m->name, k, v);
    }
    free(text);
    if (ok && (first || seen != (1L << NKEYS) - 1)) { complain("%s: description incomplete or not a stand-in graph", m->name); ok = 0; }
    if (ok && (c->layers < 1 || c->hidden < 1 || c->heads < 1 || c->kv_heads < 1 || c->head_dim < 1 || c->ffn < 1 ||
               c->vocab < 1 || c->batch < 1 || c->length < 1 || c->kv_length < 1 || c->max_batch < 1 ||
               c->max_length < c->kv_length || c->rms_eps < 0)) { complain("%s: a dimension is out of range", m->name); ok = 0; }
    return ok;
}

static void free_model(nrt_model_t *m) {
    if (m->group != NULL && --m->group->refs == 0) {
        for (group_t **p = &g_groups; *p != NULL; p = &(*p)->next) {
            if (*p == m->group) { *p = m->group->next; break; }
        }
        pthread_mutex_destroy(&m->group->mu);
        pthread_cond_destroy(&m->group->cv);
        free(m->group);
    }
    free(m->t);
    free(m);
}

static NRT_STATUS load(const char *call, const void *neff, size_t size, int32_t vnc, int rank, int world,
                       nrt_model_t **model) {
    int status = enter(call);
    if (status != 0) return status;
    nrt_model_t *m = NULL;
    const uint8_t *h = neff;
    if (neff == NULL || model == NULL || size < NEFF_HEADER_SIZE || le64(h + NEFF_OFF_HEADER_SIZE) != NEFF_HEADER_SIZE ||
        le64(h + NEFF_OFF_DATA_SIZE) != size - NEFF_HEADER_SIZE) {
        complain("NEFF header: size fields do not match the %zu bytes given", size);
        status = NRT_INVALID;
    } else if (le64(h + NEFF_OFF_VERSION_MAJOR) != 2) {
        status = NRT_UNSUPPORTED_NEFF_VERSION;
    } else if (vnc < -1 || vnc >= g_nvisible || g_nvisible == 0) {
        status = NRT_LOAD_NOT_ENOUGH_NC;
    } else if (world < 1 || world > MAX_WORLD || rank < 0 || rank >= world) {
        status = NRT_INVALID;
    } else if ((m = calloc(1, sizeof *m)) == NULL) {
        status = NRT_RESOURCE;
    } else {
        uint8_t digest[32];
        sha256(h + NEFF_HEADER_SIZE, size - NEFF_HEADER_SIZE, digest);
        memcpy(m->hash, h + NEFF_OFF_HASH, 32);
        memcpy(m->name, h + NEFF_OFF_NAME, 256);
        m->name[256] = 0;
        m->vnc = vnc < 0 ? 0 : vnc;
        m->rank = rank;
        m->world = world;
        if (memcmp(digest, m->hash, 32) != 0) {
            complain("%s: NEFF hash does not match its data", m->name);
            status = NRT_INVALID;
        } else if (!parse_description(m, (const char *)h + NEFF_HEADER_SIZE, size - NEFF_HEADER_SIZE) || !validate(m)) {
            status = NRT_INVALID;
        } else if (m->c.tp_world != world) {
            complain("%s: compiled for tp %d, loaded as rank %d of %d", m->name, m->c.tp_world, rank, world);
            status = NRT_INVALID;
        }
        if (status == 0 && world > 1) {
            group_t *g = g_groups;
            while (g != NULL && (g->world != world || memcmp(g->hash, m->hash, 32) != 0)) g = g->next;
            if (g == NULL && (g = calloc(1, sizeof *g)) != NULL) {
                memcpy(g->hash, m->hash, 32);
                g->world = world;
                pthread_mutex_init(&g->mu, NULL);
                pthread_cond_init(&g->cv, NULL);
                g->next = g_groups;
                g_groups = g;
            }
            if (g == NULL) status = NRT_RESOURCE;
            else { g->refs++; m->group = g; }
        }
        if (status == 0 && !reg_add(&g_models, m)) status = NRT_RESOURCE;
        if (status != 0) free_model(m);
        else *model = m;
    }
    pthread_mutex_unlock(&g_lock);
    return status;
}

EXPORT NRT_STATUS nrt_load(const void *neff, size_t size, int32_t vnc, int32_t vnc_count, nrt_model_t **model) {
    (void)vnc_count;
    return load("nrt_load", neff, size, vnc, 0, 1, model);
}

EXPORT NRT_STATUS nrt_load_collectives(const void *neff, size_t size, int32_t vnc, int32_t vnc_count, uint32_t ctx_device_id,
                                       uint32_t ctx_device_count, nrt_model_t **model) {
    (void)vnc_count;
    if (ctx_device_id > MAX_WORLD || ctx_device_count > MAX_WORLD) return NRT_INVALID;
    return load("nrt_load_collectives", neff, size, vnc, (int)ctx_device_id, (int)ctx_device_count, model);
}

EXPORT NRT_STATUS nrt_unload(nrt_model_t *model) {
    int status = enter("nrt_unload");
    if (status != 0) return status;
    if (!reg_remove(&g_models, model)) status = NRT_INVALID_HANDLE;
    else free_model(model);
    pthread_mutex_unlock(&g_lock);
    return status;
}

/* One block: the count, the infos, then every shape; shape pointers point into the block (libnrt's layout). */
EXPORT NRT_STATUS nrt_get_model_tensor_info(nrt_model_t *model, nrt_tensor_info_array_t **info) {
    int status = enter("nrt_get_model_tensor_info");
    if (status != 0) return status;
    if (!reg_has(&g_models, model)) status = NRT_INVALID_HANDLE;
    else if (info == NULL) status = NRT_INVALID;
    else {
        size_t dims = 0;
        for (size_t i = 0; i < model->nt; i++) dims += model->t[i].ndim;
        size_t head = sizeof(nrt_tensor_info_array_t) + model->nt * sizeof(nrt_tensor_info_t);
        nrt_tensor_info_array_t *a = calloc(1, head + dims * sizeof(uint32_t));
        if (a == NULL) status = NRT_RESOURCE;
        else {
            uint32_t *shapes = (uint32_t *)((char *)a + head);
            a->tensor_count = model->nt;
            for (size_t i = 0; i < model->nt; i++) {
                const tdesc_t *t = &model->t[i];
                nrt_tensor_info_t *o = &a->tensor_array[i];
                strcpy(o->name, t->name);
                o->usage = t->input ? NRT_TENSOR_USAGE_INPUT : NRT_TENSOR_USAGE_OUTPUT;
                o->size = t->size;
                o->dtype = t->dtype == DT_INT32 ? NRT_DTYPE_INT32 : t->dtype == DT_F32 ? NRT_DTYPE_FLOAT32 : NRT_DTYPE_BFLOAT16;
                o->shape = shapes;
                o->ndim = t->ndim;
                memcpy(shapes, t->shape, t->ndim * sizeof(uint32_t));
                shapes += t->ndim;
            }
            *info = a;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return status;
}

EXPORT NRT_STATUS nrt_free_model_tensor_info(nrt_tensor_info_array_t *info) {
    free(info);
    return NRT_SUCCESS;
}

/* ---------------------------------------------------------------- collectives */

static int timeout_ms(void) { return env_int("BASALT_STANDIN_COLLECTIVE_TIMEOUT_MS", 10000); }

/* Waits until every rank of the group has arrived; a rank that gives up withdraws, so a late peer waits afresh. */
static int barrier(group_t *g) {
    pthread_mutex_lock(&g->mu);
    unsigned long gen = g->generation;
    if (++g->arrived == g->world) {
        g->arrived = 0;
        g->generation++;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        return NRT_SUCCESS;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    long ms = timeout_ms();
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
    int status = NRT_SUCCESS;
    while (g->generation == gen) {
        if (pthread_cond_timedwait(&g->cv, &g->mu, &deadline) == ETIMEDOUT && g->generation == gen) {
            g->arrived--;
            status = NRT_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&g->mu);
    return status;
}

/* sum = Σ over ranks of partial, added in rank order so every rank computes the same bits. */
static int all_reduce(const nrt_model_t *m, const float *partial, float *sum, size_t n) {
    if (m->group == NULL) {
        memcpy(sum, partial, n * sizeof *sum);
        return NRT_SUCCESS;
    }
    group_t *g = m->group;
    g->bufs[m->rank] = partial; /* published to the peers by the barrier's mutex */
    int status = barrier(g);
    if (status != 0) return status;
    for (size_t i = 0; i < n; i++) {
        float s = g->bufs[0][i];
        for (int r = 1; r < g->world; r++) s += g->bufs[r][i];
        sum[i] = s;
    }
    return barrier(g); /* nobody reuses its partial buffer before every rank has read it */
}

/* ---------------------------------------------------------------- the forward pass */

typedef struct { const void *p; int dt; } weight_t;

static inline float wget(weight_t w, size_t i) {
    if (w.dt == DT_F32) return ((const float *)w.p)[i];
    uint32_t bits = (uint32_t)((const uint16_t *)w.p)[i] << 16; /* bf16 is the top half of an f32 */
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void matvec(weight_t w, int rows, int cols, const float *x, float *out) {
    for (int r = 0; r < rows; r++) {
        float s = 0;
        size_t base = (size_t)r * cols;
        for (int c = 0; c < cols; c++) s += wget(w, base + c) * x[c];
        out[r] = s;
    }
}

static void rmsnorm(const float *x, weight_t w, int n, float eps, float *out) {
    float ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * inv * wget(w, i);
}

/* RoPE on the first rotary_dims of each head: pairs (2i, 2i+1) or (i, i + rotary_dims/2); angle pos·θ^(−2i/rd). */
static void rope(const config_t *c, float *v, int nheads, int pos) {
    int rd = c->rotary_dims, half = rd / 2;
    for (int i = 0; i < half; i++) {
        double angle = pos * pow(c->rope_theta, -2.0 * i / rd);
        float cs = (float)cos(angle), sn = (float)sin(angle);
        for (int h = 0; h < nheads; h++) {
            float *x = v + (size_t)h * c->head_dim;
            int a = c->rope_half ? i : 2 * i, b = c->rope_half ? i + half : 2 * i + 1;
            float x0 = x[a], x1 = x[b];
            x[a] = x0 * cs - x1 * sn;
            x[b] = x0 * sn + x1 * cs;
        }
    }
}

static void *bound_kind(const nrt_model_t *m, void **bound, const char *kind, int input) {
    const tdesc_t *t = find_kind(m, kind, input);
    return t != NULL ? bound[t - m->t] : NULL;
}

static weight_t weight(const nrt_model_t *m, void **bound, const char *kind) {
    weight_t w = {bound_kind(m, bound, kind, 1), m->c.weight_dtype};
    return w;
}

static weight_t layer_weight(const nrt_model_t *m, void **bound, int l, const char *name) {
    char k[64];
    snprintf(k, sizeof k, "layer.%d.%s", l, name);
    return weight(m, bound, k);
}

/*
 * One step (docs/NEURON.md §3 "Step semantics"). Rows are independent except through their KV slots; tokens of a
 * row are processed in order within each layer, so a token's attention sees the K/V just written for the earlier
 * ones (causal, and chunked prefill reads earlier positions from the cache).
 */
static int forward(const nrt_model_t *m, void **bound, const int *n_real) {
    const config_t *c = &m->c;
    int tp = c->tp_world, B = c->batch, L = c->length, D = c->hidden, hd = c->head_dim, K = c->kv_length;
    int Hr = c->heads / tp, KVr = c->kv_heads / tp, Fr = c->ffn / tp, group = Hr / KVr;
    size_t N = (size_t)B * L;
    const int32_t *ids = bound_kind(m, bound, "input_ids", 1);
    const int32_t *pos = bound_kind(m, bound, "position_ids", 1);
    const int32_t *slots = bound_kind(m, bound, "seq_ids", 1);
    float *x = calloc(N * D, sizeof *x), *partial = calloc(N * D, sizeof *x), *sum = calloc(N * D, sizeof *x);
    float *h = malloc(D * sizeof *h), *q = malloc((size_t)Hr * hd * sizeof *q), *k = malloc((size_t)KVr * hd * sizeof *k);
    float *v = malloc((size_t)KVr * hd * sizeof *v), *att = malloc((size_t)Hr * hd * sizeof *att);
    float *scores = malloc((size_t)c->max_length * sizeof *scores);
    float *gate = malloc((size_t)Fr * sizeof *gate), *up = malloc((size_t)Fr * sizeof *up);
    int status = NRT_SUCCESS;
    if (!x || !partial || !sum || !h || !q || !k || !v || !att || !scores || !gate || !up) status = NRT_RESOURCE;
    (void)K;

    weight_t emb = weight(m, bound, "tok_embeddings");
    for (int b = 0; status == 0 && b < B; b++)
        for (int t = 0; t < n_real[b]; t++) {
            size_t tok = (size_t)b * L + t;
            for (int i = 0; i < D; i++) x[tok * D + i] = wget(emb, (size_t)ids[tok] * D + i);
        }

    float scale = 1.0f / sqrtf((float)hd);
    for (int l = 0; status == 0 && l < c->layers; l++) {
        char kk[64];
        snprintf(kk, sizeof kk, "layer.%d.k_cache", l);
        float *kc = bound_kind(m, bound, kk, 0);
        snprintf(kk, sizeof kk, "layer.%d.v_cache", l);
        float *vc = bound_kind(m, bound, kk, 0);
        weight_t wq = layer_weight(m, bound, l, "wq"), wk = layer_weight(m, bound, l, "wk");
        weight_t wv = layer_weight(m, bound, l, "wv"), wo = layer_weight(m, bound, l, "wo");
        memset(partial, 0, N * D * sizeof *partial);
        for (int b = 0; b < B; b++) {
            size_t slot = (size_t)slots[b];
            for (int t = 0; t < n_real[b]; t++) {
                size_t tok = (size_t)b * L + t;
                int p = pos[tok];
                rmsnorm(x + tok * D, layer_weight(m, bound, l, "attn_norm"), D, c->rms_eps, h);
                matvec(wq, Hr * hd, D, h, q);
                matvec(wk, KVr * hd, D, h, k);
                matvec(wv, KVr * hd, D, h, v);
                rope(c, q, Hr, p);
                rope(c, k, KVr, p);
                for (int j = 0; j < KVr; j++) {
                    size_t at = ((slot * KVr + j) * c->max_length + p) * hd;
                    memcpy(kc + at, k + (size_t)j * hd, hd * sizeof *k);
                    memcpy(vc + at, v + (size_t)j * hd, hd * sizeof *v);
                }
                for (int hh = 0; hh < Hr; hh++) {
                    const float *qh = q + (size_t)hh * hd;
                    size_t base = (slot * KVr + hh / group) * c->max_length * hd;
                    float max = -INFINITY, total = 0;
                    for (int j = 0; j <= p; j++) {
                        float s = 0;
                        for (int d = 0; d < hd; d++) s += qh[d] * kc[base + (size_t)j * hd + d];
                        scores[j] = s * scale;
                        if (scores[j] > max) max = scores[j];
                    }
                    for (int j = 0; j <= p; j++) { scores[j] = expf(scores[j] - max); total += scores[j]; }
                    float *out = att + (size_t)hh * hd;
                    for (int d = 0; d < hd; d++) out[d] = 0;
                    for (int j = 0; j <= p; j++) {
                        float w = scores[j] / total;
                        for (int d = 0; d < hd; d++) out[d] += w * vc[base + (size_t)j * hd + d];
                    }
                }
                matvec(wo, D, Hr * hd, att, partial + tok * D);
            }
        }
        if ((status = all_reduce(m, partial, sum, N * D)) != 0) break;
        for (size_t i = 0; i < N * D; i++) x[i] += sum[i];

        weight_t wg = layer_weight(m, bound, l, "w_gate"), wu = layer_weight(m, bound, l, "w_up");
        weight_t wd = layer_weight(m, bound, l, "w_down");
        memset(partial, 0, N * D * sizeof *partial);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < n_real[b]; t++) {
                size_t tok = (size_t)b * L + t;
                rmsnorm(x + tok * D, layer_weight(m, bound, l, "ffn_norm"), D, c->rms_eps, h);
                matvec(wg, Fr, D, h, gate);
                matvec(wu, Fr, D, h, up);
                for (int i = 0; i < Fr; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
                matvec(wd, D, Fr, gate, partial + tok * D);
            }
        if ((status = all_reduce(m, partial, sum, N * D)) != 0) break;
        for (size_t i = 0; i < N * D; i++) x[i] += sum[i];
    }

    if (status == 0) {
        weight_t fn = weight(m, bound, "final_norm"), head = weight(m, bound, "lm_head");
        float *logits = c->token_ids ? malloc((size_t)c->vocab * sizeof *logits) : NULL;
        if (c->token_ids && logits == NULL) status = NRT_RESOURCE;
        for (int b = 0; status == 0 && b < B; b++) {
            float *row = c->token_ids ? logits : (float *)bound_kind(m, bound, "logits", 0) + (size_t)b * c->vocab;
            if (n_real[b] == 0) { memset(row, 0, (size_t)c->vocab * sizeof *row); continue; }
            rmsnorm(x + ((size_t)b * L + n_real[b] - 1) * D, fn, D, c->rms_eps, h);
            matvec(head, c->vocab, D, h, row);
            if (c->token_ids) {
                int best = 0; /* greedy, lowest id on ties */
                for (int i = 1; i < c->vocab; i++) if (row[i] > row[best]) best = i;
                ((int32_t *)bound_kind(m, bound, "token_ids", 0))[b] = best;
            }
        }
        free(logits);
    }
    free(x); free(partial); free(sum); free(h); free(q); free(k); free(v); free(att); free(scores); free(gate); free(up);
    return status;
}

/* Binds every NEFF tensor from its set (present, live, exact size, same core); g_lock held. */
static int bind(const nrt_model_t *m, const tensor_set_t *in, const tensor_set_t *out, void **bound) {
    for (size_t i = 0; i < m->nt; i++) {
        const tdesc_t *t = &m->t[i];
        const tensor_set_t *s = t->input ? in : out;
        const set_entry_t *e = NULL;
        for (size_t j = 0; j < s->n && e == NULL; j++) if (strcmp(s->entries[j].name, t->name) == 0) e = &s->entries[j];
        if (e == NULL) { complain("%s: %s (%s) is not in the %s set", m->name, t->name, t->kind, t->input ? "input" : "output"); return NRT_INVALID; }
        if (!reg_has(&g_tensors, e->tensor)) return NRT_INVALID_HANDLE;
        if (e->tensor->size != t->size) {
            complain("%s: %s (%s) is %zu bytes, the NEFF needs %zu", m->name, t->name, t->kind, e->tensor->size, t->size);
            return NRT_INVALID;
        }
        if (e->tensor->vnc != m->vnc) { complain("%s: %s is on core %d, the model on %d", m->name, t->name, e->tensor->vnc, m->vnc); return NRT_INVALID; }
        bound[i] = e->tensor->data;
    }
    return NRT_SUCCESS;
}

/* The indirect loads of the step: token ids, slots and positions in range, as the device's DMA bounds require. */
static int check_inputs(const nrt_model_t *m, void **bound, int *n_real) {
    const config_t *c = &m->c;
    const int32_t *ids = bound_kind(m, bound, "input_ids", 1), *mask = bound_kind(m, bound, "attention_mask", 1);
    const int32_t *pos = bound_kind(m, bound, "position_ids", 1), *slots = bound_kind(m, bound, "seq_ids", 1);
    const float *sampling = bound_kind(m, bound, "sampling_params", 1);
    for (int b = 0; b < c->batch; b++) {
        if (slots[b] < 0 || slots[b] >= c->max_batch) return NRT_EXEC_OOB;
        int n = 1;
        if (!c->decode) {
            n = 0;
            for (int j = 0; j < c->kv_length; j++) n += mask[(size_t)b * c->kv_length + j] != 0;
        }
        n_real[b] = n;
        for (int t = 0; t < n; t++) {
            size_t tok = (size_t)b * c->length + t;
            if (ids[tok] < 0 || ids[tok] >= c->vocab || pos[tok] < 0 || pos[tok] >= c->max_length) return NRT_EXEC_OOB;
            if (c->decode && pos[tok] >= c->kv_length) return NRT_EXEC_OOB;
        }
        if (c->token_ids && sampling != NULL && sampling[(size_t)b * 3 + 2] > 0) return NRT_EXEC_BAD_INPUT;
    }
    return NRT_SUCCESS;
}

EXPORT NRT_STATUS nrt_execute(nrt_model_t *model, const nrt_tensor_set_t *input_set, nrt_tensor_set_t *output_set) {
    int status = enter("nrt_execute");
    if (status != 0) return status;
    void **bound = NULL;
    int *n_real = NULL;
    if (!reg_has(&g_models, model) || !reg_has(&g_sets, input_set) || !reg_has(&g_sets, output_set)) {
        status = NRT_INVALID_HANDLE;
    } else if ((bound = calloc(model->nt, sizeof *bound)) == NULL || (n_real = calloc(model->c.batch, sizeof *n_real)) == NULL) {
        status = NRT_RESOURCE;
    } else {
        status = bind(model, input_set, output_set, bound);
    }
    pthread_mutex_unlock(&g_lock);
    /* Past this point the tensors are the caller's to keep alive, as with libnrt during an execute. */
    if (status == 0) status = check_inputs(model, bound, n_real);
    if (status == 0) {
        /* A state's output tensor starts as its input (in-place when aliased to the same tensor, as the runner does). */
        for (size_t i = 0; i < model->nt; i++) {
            const tdesc_t *t = &model->t[i];
            if (!t->input || t->alias[0] == 0) continue;
            const tdesc_t *o = find_name(model, t->alias);
            if (bound[o - model->t] != bound[i]) memcpy(bound[o - model->t], bound[i], t->size);
        }
        const config_t *c = &model->c;
        log_line("%s %s batch=%d length=%d kv_length=%d rank=%d", model->name, c->decode ? "decode" : "prefill", c->batch,
                 c->length, c->kv_length, model->rank);
        /* Every rank must be inside nrt_execute together: ranks run one after another time out here. */
        if (model->group != NULL) status = barrier(model->group);
        if (status == 0) status = forward(model, bound, n_real);
    }
    free(bound);
    free(n_real);
    return status;
}
