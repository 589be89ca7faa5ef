/*
 * Basalt's own declarations of the parts of the libnrt ABI that Basalt uses (the bridge calls them through
 * dlsym; the stand-in exports them). Written from the facts in HARDWARE.md §1.2–1.4: the vendor's nrt.h has no
 * open license, so it is never copied or included. Layouts are x86_64 LP64 and pinned by _Static_assert, so a
 * drift from the documented offsets fails the build rather than corrupting memory at run time.
 */
#ifndef BASALT_NRT_ABI_H
#define BASALT_NRT_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Opaque handles: only ever passed back to libnrt. */
typedef struct nrt_model nrt_model_t;
typedef struct nrt_tensor nrt_tensor_t;
typedef void nrt_tensor_set_t;

/* All libnrt enums are 4-byte ints; plain int typedefs keep the width explicit. */
typedef int NRT_STATUS;
typedef int nrt_framework_type_t;
typedef int nrt_tensor_placement_t;
typedef int nrt_tensor_usage_t;
typedef int nrt_dtype_t;

enum {
    NRT_SUCCESS = 0,
    NRT_FAILURE = 1,
    NRT_INVALID = 2,
    NRT_INVALID_HANDLE = 3,
    NRT_RESOURCE = 4,
    NRT_TIMEOUT = 5,
    NRT_HW_ERROR = 6,
    NRT_QUEUE_FULL = 7,
    NRT_LOAD_NOT_ENOUGH_NC = 9,
    NRT_UNSUPPORTED_NEFF_VERSION = 10,
    NRT_FAIL_HOST_MEM_ALLOC = 11,
    NRT_UNINITIALIZED = 13,
    NRT_CLOSED = 14,
    NRT_QUEUE_EMPTY = 15,
    NRT_EXEC_UNIT_UNRECOVERABLE = 101,
    NRT_EXEC_BAD_INPUT = 1002,
    NRT_EXEC_COMPLETED_WITH_NUM_ERR = 1003,
    NRT_EXEC_COMPLETED_WITH_ERR = 1004,
    NRT_EXEC_NC_BUSY = 1005,
    NRT_EXEC_OOB = 1006,
    NRT_COLL_PENDING = 1100,
    NRT_EXEC_HW_ERR_COLLECTIVES = 1200,
    NRT_EXEC_HW_ERR_HBM_UE = 1201,
    NRT_EXEC_HW_ERR_NC_UE = 1202,
    NRT_EXEC_HW_ERR_DMA_ABORT = 1203,
    NRT_EXEC_SW_NQ_OVERFLOW = 1204,
    NRT_EXEC_HW_ERR_REPAIRABLE_HBM_UE = 1205,
    NRT_NETWORK_PROXY_FAILURE = 1206
};

enum { NRT_FRAMEWORK_TYPE_INVALID = 0, NRT_FRAMEWORK_TYPE_NO_FW = 1 };

enum { NRT_TENSOR_PLACEMENT_DEVICE = 0, NRT_TENSOR_PLACEMENT_HOST = 1, NRT_TENSOR_PLACEMENT_VIRTUAL = 2 };

enum { NRT_TENSOR_USAGE_INPUT = 0, NRT_TENSOR_USAGE_OUTPUT = 1 };

/* The current header's dtype codes (2.28+); the old experimental numbering differs, so treat them as advisory. */
enum {
    NRT_DTYPE_UNKNOWN = 0x0,
    NRT_DTYPE_UINT64 = 0x1,
    NRT_DTYPE_INT8 = 0x2,
    NRT_DTYPE_UINT8 = 0x3,
    NRT_DTYPE_INT16 = 0x4,
    NRT_DTYPE_UINT16 = 0x5,
    NRT_DTYPE_BFLOAT16 = 0x6,
    NRT_DTYPE_FLOAT16 = 0x7,
    NRT_DTYPE_INT32 = 0x8,
    NRT_DTYPE_UINT32 = 0x9,
    NRT_DTYPE_FLOAT32 = 0xA,
    NRT_DTYPE_FP32R = 0xB,
    NRT_DTYPE_INT64 = 0xC
};

#define NRT_TENSOR_NAME_MAX 256

typedef struct nrt_tensor_info {
    char name[NRT_TENSOR_NAME_MAX];
    nrt_tensor_usage_t usage;
    size_t size;
    nrt_dtype_t dtype;
    uint32_t *shape; /* points into the same libnrt-owned block */
    uint32_t ndim;
} nrt_tensor_info_t;

typedef struct nrt_tensor_info_array {
    uint64_t tensor_count;
    nrt_tensor_info_t tensor_array[];
} nrt_tensor_info_array_t;

typedef struct nrt_version {
    uint64_t rt_major;
    uint64_t rt_minor;
    uint64_t rt_patch;
    uint64_t rt_maintenance;
    char rt_detail[128];
    char git_hash[64];
} nrt_version_t;

_Static_assert(sizeof(int) == 4, "libnrt enums are 4 bytes");
_Static_assert(sizeof(nrt_tensor_info_t) == 296, "nrt_tensor_info_t is 296 bytes");
_Static_assert(offsetof(nrt_tensor_info_t, usage) == 256, "nrt_tensor_info_t.usage");
_Static_assert(offsetof(nrt_tensor_info_t, size) == 264, "nrt_tensor_info_t.size");
_Static_assert(offsetof(nrt_tensor_info_t, dtype) == 272, "nrt_tensor_info_t.dtype");
_Static_assert(offsetof(nrt_tensor_info_t, shape) == 280, "nrt_tensor_info_t.shape");
_Static_assert(offsetof(nrt_tensor_info_t, ndim) == 288, "nrt_tensor_info_t.ndim");
_Static_assert(offsetof(nrt_tensor_info_array_t, tensor_array) == 8, "tensor_array follows the count");
_Static_assert(sizeof(nrt_version_t) == 224, "nrt_version_t is 224 bytes");
_Static_assert(offsetof(nrt_version_t, rt_detail) == 32, "nrt_version_t.rt_detail");
_Static_assert(offsetof(nrt_version_t, git_hash) == 160, "nrt_version_t.git_hash");

/* NEFF header (HARDWARE.md §1.8): offsets only, read byte-wise since the packed layout is ours to interpret. */
#define NEFF_HEADER_SIZE 1024
#define NEFF_OFF_PKG_VERSION 0
#define NEFF_OFF_HEADER_SIZE 8
#define NEFF_OFF_DATA_SIZE 16
#define NEFF_OFF_VERSION_MAJOR 24
#define NEFF_OFF_VERSION_MINOR 32
#define NEFF_OFF_BUILD_VERSION 40 /* uint8[128] */
#define NEFF_OFF_NUM_TPB 168
#define NEFF_OFF_HASH 172 /* uint8[32], SHA-256 of the data */
#define NEFF_OFF_UUID 204
#define NEFF_OFF_NAME 220 /* char[256] */
#define NEFF_OFF_REQUESTED_TPB 476
#define NEFF_OFF_TPB_PER_NODE 480
#define NEFF_OFF_FEATURE_BITS 544
#define NEFF_OFF_LNC_SIZE 552

/* Prototypes as function-pointer types (the bridge dlsyms them) and as declarations (the stand-in defines them). */
#define BASALT_NRT_FUNCTIONS(X) \
    X(NRT_STATUS, nrt_init, (nrt_framework_type_t framework, const char *fw_version, const char *fal_version)) \
    X(void, nrt_close, (void)) \
    X(NRT_STATUS, nrt_get_version, (nrt_version_t *ver, size_t size)) \
    X(NRT_STATUS, nrt_get_visible_nc_count, (uint32_t *vnc_count)) \
    X(NRT_STATUS, nrt_load, (const void *neff_bytes, size_t size, int32_t vnc, int32_t vnc_count, nrt_model_t **model)) \
    X(NRT_STATUS, nrt_load_collectives, (const void *neff_bytes, size_t size, int32_t vnc, int32_t vnc_count, \
                                         uint32_t ctx_device_id, uint32_t ctx_device_count, nrt_model_t **model)) \
    X(NRT_STATUS, nrt_unload, (nrt_model_t *model)) \
    X(NRT_STATUS, nrt_get_model_tensor_info, (nrt_model_t *model, nrt_tensor_info_array_t **tensor_info)) \
    X(NRT_STATUS, nrt_free_model_tensor_info, (nrt_tensor_info_array_t *tensor_info)) \
    X(NRT_STATUS, nrt_tensor_allocate, (nrt_tensor_placement_t tensor_placement, int vnc, size_t size, \
                                        const char *name, nrt_tensor_t **tensor)) \
    X(void, nrt_tensor_free, (nrt_tensor_t **tensor)) \
    X(NRT_STATUS, nrt_tensor_read, (const nrt_tensor_t *tensor, void *buf, size_t offset, size_t size)) \
    X(NRT_STATUS, nrt_tensor_write, (nrt_tensor_t *tensor, const void *buf, size_t offset, size_t size)) \
    X(NRT_STATUS, nrt_tensor_copy, (const nrt_tensor_t *src, size_t src_offset, nrt_tensor_t *dst, size_t dst_offset, \
                                    size_t size)) \
    X(NRT_STATUS, nrt_allocate_tensor_set, (nrt_tensor_set_t **result)) \
    X(void, nrt_destroy_tensor_set, (nrt_tensor_set_t **tensor_set)) \
    X(NRT_STATUS, nrt_add_tensor_to_tensor_set, (nrt_tensor_set_t *tensor_set, const char *tensor_name, \
                                                 nrt_tensor_t *tensor)) \
    X(NRT_STATUS, nrt_execute, (nrt_model_t *model, const nrt_tensor_set_t *input_set, nrt_tensor_set_t *output_set))

/* Newer symbols: absent from older libnrt builds, so the bridge treats them as optional. */
#define BASALT_NRT_OPTIONAL_FUNCTIONS(X) \
    X(NRT_STATUS, nrt_get_visible_vnc_count, (uint32_t *vnc_count)) \
    X(const char *, nrt_get_status_as_str, (NRT_STATUS status))

/* Our own status names (nrt_status.h spellings); used when nrt_get_status_as_str is absent. */
static inline const char *basalt_nrt_status_name(int status) {
    switch (status) {
    case NRT_SUCCESS: return "NRT_SUCCESS";
    case NRT_FAILURE: return "NRT_FAILURE";
    case NRT_INVALID: return "NRT_INVALID";
    case NRT_INVALID_HANDLE: return "NRT_INVALID_HANDLE";
    case NRT_RESOURCE: return "NRT_RESOURCE";
    case NRT_TIMEOUT: return "NRT_TIMEOUT";
    case NRT_HW_ERROR: return "NRT_HW_ERROR";
    case NRT_QUEUE_FULL: return "NRT_QUEUE_FULL";
    case NRT_LOAD_NOT_ENOUGH_NC: return "NRT_LOAD_NOT_ENOUGH_NC";
    case NRT_UNSUPPORTED_NEFF_VERSION: return "NRT_UNSUPPORTED_NEFF_VERSION";
    case NRT_FAIL_HOST_MEM_ALLOC: return "NRT_FAIL_HOST_MEM_ALLOC";
    case NRT_UNINITIALIZED: return "NRT_UNINITIALIZED";
    case NRT_CLOSED: return "NRT_CLOSED";
    case NRT_QUEUE_EMPTY: return "NRT_QUEUE_EMPTY";
    case NRT_EXEC_UNIT_UNRECOVERABLE: return "NRT_EXEC_UNIT_UNRECOVERABLE";
    case NRT_EXEC_BAD_INPUT: return "NRT_EXEC_BAD_INPUT";
    case NRT_EXEC_COMPLETED_WITH_NUM_ERR: return "NRT_EXEC_COMPLETED_WITH_NUM_ERR";
    case NRT_EXEC_COMPLETED_WITH_ERR: return "NRT_EXEC_COMPLETED_WITH_ERR";
    case NRT_EXEC_NC_BUSY: return "NRT_EXEC_NC_BUSY";
    case NRT_EXEC_OOB: return "NRT_EXEC_OOB";
    case NRT_COLL_PENDING: return "NRT_COLL_PENDING";
    case NRT_EXEC_HW_ERR_COLLECTIVES: return "NRT_EXEC_HW_ERR_COLLECTIVES";
    case NRT_EXEC_HW_ERR_HBM_UE: return "NRT_EXEC_HW_ERR_HBM_UE";
    case NRT_EXEC_HW_ERR_NC_UE: return "NRT_EXEC_HW_ERR_NC_UE";
    case NRT_EXEC_HW_ERR_DMA_ABORT: return "NRT_EXEC_HW_ERR_DMA_ABORT";
    case NRT_EXEC_SW_NQ_OVERFLOW: return "NRT_EXEC_SW_NQ_OVERFLOW";
    case NRT_EXEC_HW_ERR_REPAIRABLE_HBM_UE: return "NRT_EXEC_HW_ERR_REPAIRABLE_HBM_UE";
    case NRT_NETWORK_PROXY_FAILURE: return "NRT_NETWORK_PROXY_FAILURE";
    default: return NULL;
    }
}

#endif
