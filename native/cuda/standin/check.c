/* make check: a smoke test of the stand-in driver surface and its kernel table against kernels/cuda/kernels.abi. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long dptr;
static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "check.c:%d: %s\n", __LINE__, #c); failures++; } } while (0)

static void *h, *lt;
static void *sym(void *lib, const char *n) {
    void *p = dlsym(lib, n);
    if (!p) { fprintf(stderr, "missing %s\n", n); exit(1); }
    return p;
}
typedef int (*getproc_t)(const char *, void **, int, unsigned long long, int *);
static getproc_t getproc;
static void *fn(const char *base) {
    void *p = NULL;
    int st = -1;
    if (getproc(base, &p, 13000, 0, &st) != 0 || st != 0 || !p) { fprintf(stderr, "no %s\n", base); exit(1); }
    return p;
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/libcuda.so.1", argv[1]);
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    getproc = (getproc_t) sym(h, "cuGetProcAddress_v2");
    int (*cuInit)(unsigned) = sym(h, "cuInit");
    int (*memAlloc)(dptr *, size_t) = sym(h, "cuMemAlloc_v2");
    dptr d;
    CHECK(memAlloc(&d, 16) == 3);
    CHECK(cuInit(0) == 0);
    int (*version)(int *) = sym(h, "cuDriverGetVersion");
    int v = 0;
    CHECK(version(&v) == 0 && v == 13000);
    const char *legacy[] = {"cuMemAlloc", "cuMemFree", "cuMemcpyHtoD", "cuMemcpyDtoH", "cuCtxDestroy", "cuStreamDestroy",
                            "cuEventDestroy", "cuDeviceTotalMem", "cuMemGetInfo", "cuStreamBeginCapture", NULL};
    for (int i = 0; legacy[i]; i++) CHECK(dlsym(h, legacy[i]) == NULL);
    CHECK(fn("cuMemAlloc") == (void *) memAlloc);
    void *p = (void *) 1;
    int st = -1;
    CHECK(getproc("cuNoSuchThing", &p, 13000, 0, &st) == 0 && p == NULL && st == 1);
    CHECK(getproc("cuMemAlloc", &p, 14000, 0, &st) == 1);
    CHECK(getproc("cuEventElapsedTime", &p, 12000, 0, &st) == 0 && p == dlsym(h, "cuEventElapsedTime"));
    CHECK(getproc("cuEventElapsedTime", &p, 13000, 0, &st) == 0 && p == dlsym(h, "cuEventElapsedTime_v2"));

    CHECK(memAlloc(&d, 16) == 201);
    void *ctx;
    int (*retain)(void **, int) = fn("cuDevicePrimaryCtxRetain");
    int (*setCurrent)(void *) = fn("cuCtxSetCurrent");
    CHECK(retain(&ctx, 0) == 0 && setCurrent(ctx) == 0);
    int (*memFree)(dptr) = fn("cuMemFree");
    int (*htod)(dptr, const void *, size_t) = fn("cuMemcpyHtoD");
    int (*dtoh)(void *, dptr, size_t) = fn("cuMemcpyDtoH");
    int (*htodAsync)(dptr, const void *, size_t, void *) = fn("cuMemcpyHtoDAsync");
    dptr x, y;
    CHECK(memAlloc(&x, 1000 * 4) == 0 && memAlloc(&y, 1000 * 4) == 0);
    float hx[1000], hy[1000], out[1000];
    for (int i = 0; i < 1000; i++) { hx[i] = (float) i; hy[i] = 1.0f; }
    CHECK(htod(x, hx, 4000) == 0 && htod(y, hy, 4000) == 0);
    CHECK(htod(x + 8, hx, 4000) == 1); /* past the end */
    CHECK(htod(x + 8, hx, 3992) == 0 && htod(x, hx, 4000) == 0);

    int (*load)(void **, const void *) = fn("cuModuleLoadData");
    int (*getFn)(void **, void *, const char *) = fn("cuModuleGetFunction");
    void *mod, *add, *f2;
    CHECK(load(&mod, "garbage") == 200);
    CHECK(load(&mod, ".version 9.0\n.target sm_90\n.visible .entry basalt_add(\n.entry basalt_attention_split(") == 0);
    CHECK(getFn(&add, mod, "basalt_add") == 0);
    CHECK(getFn(&f2, mod, "basalt_attention") == 500); /* only a prefix of basalt_attention_split in the image */
    CHECK(getFn(&f2, mod, "basalt_rmsnorm") == 500);
    unsigned char fat[64] = {0};
    uint32_t magic = 0xBA55ED50u;
    uint16_t hs = 16;
    uint64_t payload = 48;
    memcpy(fat, &magic, 4); memcpy(fat + 6, &hs, 2); memcpy(fat + 8, &payload, 8);
    memcpy(fat + 20, "basalt_gelu", 12);
    void *fmod;
    CHECK(load(&fmod, fat) == 0 && getFn(&f2, fmod, "basalt_gelu") == 0);

    int (*launch)(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *, void **, void **)
        = fn("cuLaunchKernel");
    long long count = 1000;
    void *args[] = {&x, &y, &count};
    CHECK(launch(add, 3, 1, 1, 256, 1, 1, 0, NULL, args, NULL) == 1); /* grid must be CEIL(1000,256) = 4 */
    CHECK(launch(add, 4, 1, 1, 256, 1, 1, 0, NULL, args, NULL) == 0);
    CHECK(dtoh(out, x, 4000) == 0 && out[10] == 11.0f);
    dptr bad = 12345;
    void *badArgs[] = {&bad, &y, &count};
    CHECK(launch(add, 4, 1, 1, 256, 1, 1, 0, NULL, badArgs, NULL) == 1);
    size_t (*logf)(char *, size_t) = sym(h, "basalt_standin_cuda_log");
    char logbuf[4096];
    CHECK(logf(logbuf, sizeof logbuf) > 0 && strstr(logbuf, "launch basalt_add grid=4,1,1\n"));

    /* capture: a sync copy invalidates; then a clean capture replays async copy + launch */
    int (*streamCreate)(void **, unsigned) = fn("cuStreamCreate");
    int (*begin)(void *, int) = fn("cuStreamBeginCapture");
    int (*end)(void *, void **) = fn("cuStreamEndCapture");
    int (*inst)(void **, void *, unsigned long long) = fn("cuGraphInstantiateWithFlags");
    int (*glaunch)(void *, void *) = fn("cuGraphLaunch");
    void *s, *g, *e;
    CHECK(streamCreate(&s, 1) == 0);
    CHECK(begin(s, 1) == 0);
    CHECK(htod(x, hx, 4000) == 900);
    CHECK(memAlloc(&d, 16) == 900);
    CHECK(end(s, &g) == 901);
    CHECK(begin(s, 2) == 0);
    CHECK(htodAsync(x, hx, 4000, s) == 0);
    CHECK(launch(add, 4, 1, 1, 256, 1, 1, 0, s, args, NULL) == 0);
    CHECK(end(s, &g) == 0 && inst(&e, g, 0) == 0);
    for (int i = 0; i < 1000; i++) hx[i] = 2.0f * (float) i; /* read at replay, as a real HtoD node */
    CHECK(glaunch(e, s) == 0);
    CHECK(dtoh(out, x, 4000) == 0 && out[10] == 21.0f);
    CHECK(logf(logbuf, sizeof logbuf) > 0 && strstr(logbuf, "nodes=2\n"));

    int (*fail)(const char *, int, int) = sym(h, "basalt_standin_cuda_fail");
    CHECK(fail("cuMemAlloc", 2, 1) == 0);
    CHECK(memAlloc(&d, 16) == 0 && memAlloc(&d, 16) == 2 && memFree(d) == 0);
    CHECK(memFree(d) == 1); /* freed */

    /* cuBLASLt: D(2x3) = A(2x4) B(4x3) column-major, bias */
    snprintf(path, sizeof path, "%s/libcublasLt.so.13", argv[1]);
    lt = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lt) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    int (*ltCreate)(void **) = sym(lt, "cublasLtCreate");
    int (*descCreate)(void **, int, int) = sym(lt, "cublasLtMatmulDescCreate");
    int (*descSet)(void *, int, const void *, size_t) = sym(lt, "cublasLtMatmulDescSetAttribute");
    int (*layout)(void **, int, uint64_t, uint64_t, int64_t) = sym(lt, "cublasLtMatrixLayoutCreate");
    int (*matmul)(void *, void *, const void *, const void *, void *, const void *, void *, const void *, const void *,
                  void *, void *, void *, const void *, void *, size_t, void *) = sym(lt, "cublasLtMatmul");
    void *lh, *desc, *la, *lb, *lc;
    CHECK(ltCreate(&lh) == 0 && descCreate(&desc, 68, 0) == 0);
    int epi = 4;
    dptr A, B, D, bias;
    CHECK(memAlloc(&A, 32) == 0 && memAlloc(&B, 48) == 0 && memAlloc(&D, 24) == 0 && memAlloc(&bias, 8) == 0);
    float ha[8], hb[12], hbias[2] = {10.0f, 20.0f}, hd[6];
    for (int i = 0; i < 8; i++) ha[i] = (float) i;
    for (int i = 0; i < 12; i++) hb[i] = (float) (i % 5);
    CHECK(htod(A, ha, 32) == 0 && htod(B, hb, 48) == 0 && htod(bias, hbias, 8) == 0);
    void *bp = (void *) (uintptr_t) bias;
    CHECK(descSet(desc, 7, &epi, 4) == 0 && descSet(desc, 8, &bp, 8) == 0);
    CHECK(layout(&la, 0, 2, 4, 2) == 0 && layout(&lb, 0, 4, 3, 4) == 0 && layout(&lc, 0, 2, 3, 2) == 0);
    float alpha = 1.0f, beta = 0.0f;
    CHECK(matmul(lh, desc, &alpha, (void *) (uintptr_t) A, la, (void *) (uintptr_t) B, lb, &beta,
                 (void *) (uintptr_t) D, lc, (void *) (uintptr_t) D, lc, NULL, NULL, 0, s) == 0);
    CHECK(dtoh(hd, D, 24) == 0);
    for (int j = 0; j < 3; j++) {
        for (int i = 0; i < 2; i++) {
            float acc = hbias[i];
            for (int k = 0; k < 4; k++) acc += ha[i + 2 * k] * hb[k + 4 * j];
            CHECK(hd[i + 2 * j] == acc);
        }
    }

    /* the kernel table = kernels.abi */
    const char *(*kernel)(int) = sym(h, "basalt_standin_cuda_kernel");
    FILE *abi = fopen(argv[2], "r");
    if (!abi) { perror(argv[2]); return 1; }
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, abi)) {
        if (strncmp(line, "basalt_", 7)) continue;
        char *close = strchr(line, ')');
        if (!close) continue;
        close[1] = 0;
        int found = 0;
        for (int i = 0; kernel(i); i++) found |= !strcmp(kernel(i), line);
        if (!found) { fprintf(stderr, "ABI line not in the stand-in's table: %s\n", line); failures++; }
        n++;
    }
    fclose(abi);
    int table = 0;
    while (kernel(table)) table++;
    CHECK(n == table);
    if (failures) { fprintf(stderr, "%d stand-in checks failed\n", failures); return 1; }
    printf("stand-in checks passed (%d kernels)\n", n);
    return 0;
}
