/*
 * Basalt's test-only stand-in for libcuda.so.1 and libcublasLt.so.13: our own declarations of the few CUDA types
 * and constants it needs (values from HARDWARE.md §5 and ../shared/docs/CUDA.md §6; no NVIDIA header is used).
 */
#ifndef BASALT_STANDIN_H
#define BASALT_STANDIN_H

#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct bs_ctx *CUcontext;
typedef struct bs_stream *CUstream;
typedef struct bs_event *CUevent;
typedef struct bs_module *CUmodule;
typedef struct bs_function *CUfunction;
typedef struct bs_graph *CUgraph;
typedef struct bs_graph_exec *CUgraphExec;

enum {
    CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_OUT_OF_MEMORY = 2, CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_DEINITIALIZED = 4, CUDA_ERROR_STUB_LIBRARY = 34, CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER = 36,
    CUDA_ERROR_NO_DEVICE = 100, CUDA_ERROR_INVALID_DEVICE = 101, CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201, CUDA_ERROR_NO_BINARY_FOR_GPU = 209, CUDA_ERROR_INVALID_PTX = 218,
    CUDA_ERROR_JIT_COMPILER_NOT_FOUND = 221, CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222, CUDA_ERROR_FILE_NOT_FOUND = 301,
    CUDA_ERROR_INVALID_HANDLE = 400, CUDA_ERROR_NOT_FOUND = 500, CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700, CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701, CUDA_ERROR_LAUNCH_TIMEOUT = 702,
    CUDA_ERROR_LAUNCH_FAILED = 719, CUDA_ERROR_NOT_PERMITTED = 800, CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901, CUDA_ERROR_ILLEGAL_STATE = 401, CUDA_ERROR_UNKNOWN = 999
};

/* cuGetProcAddress_v2 status */
enum { CU_GET_PROC_ADDRESS_SUCCESS = 0, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND = 1,
       CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT = 2 };

/* kernel parameter types of kernels/cuda/kernels.abi */
enum bs_type { T_PTR, T_OPT, T_I32, T_I64, T_F32 };

typedef union { uint64_t p; int32_t i; int64_t l; float f; } bs_arg;

#define BS_MAX_ARGS 24

typedef struct {
    const char *name;      /* basalt_... */
    const char *signature; /* the ABI line's parameter list, for the table check */
    int nargs;
    enum bs_type types[BS_MAX_ARGS];
    /* the launch the ABI prescribes for these arguments */
    void (*geometry)(const bs_arg *a, unsigned grid[3], unsigned block[3]);
    void (*run)(const bs_arg *a);
} bs_kernel;

extern const int bs_kernel_count;
const bs_kernel *bs_kernel_at(int i);
const bs_kernel *bs_find_kernel(const char *name);

/* libcuda internals the stand-in cuBLASLt uses (exported from libcuda.so.1, not part of the CUDA API) */
EXPORT int basalt_standin_cuda_range(CUdeviceptr p, size_t bytes);
EXPORT CUresult basalt_standin_cuda_enqueue(CUstream s, const char *what, void (*fn)(void *), const void *data,
                                            size_t size);

#endif
