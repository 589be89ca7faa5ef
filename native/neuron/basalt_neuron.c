/*
 * libbasalt_neuron.so: the JNI functions behind io.basalt.backend.neuron.Nrt (docs/NEURON.md §2).
 *
 * Kept deliberately thin: every function forwards one libnrt call and returns its NRT_STATUS; the Java side turns
 * statuses into NrtException and does all lifetime checks. libnrt is dlopened at run time (never linked), so the
 * jar loads on machines without the Neuron SDK and a test can point it at the stand-in.
 * Handles travel as jlong and are only ever given back to libnrt.
 */
#include <dlfcn.h>
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nrt_abi.h"


/* One dlopened libnrt and its entry points. Optional ones may be NULL. */
typedef struct lib {
    void *dl;
#define DECLARE_POINTER(ret, name, args) ret(*name) args;
    BASALT_NRT_FUNCTIONS(DECLARE_POINTER)
    BASALT_NRT_OPTIONAL_FUNCTIONS(DECLARE_POINTER)
#undef DECLARE_POINTER
} lib_t;

#define LIB(handle) ((lib_t *)(intptr_t)(handle))
#define PTR(handle) ((void *)(intptr_t)(handle))

static void set_string(JNIEnv *env, jobjectArray array, jsize index, const char *text) {
    jstring s = (*env)->NewStringUTF(env, text);
    if (s != NULL) (*env)->SetObjectArrayElement(env, array, index, s);
}

static void set_long(JNIEnv *env, jlongArray array, jlong value) {
    (*env)->SetLongArrayRegion(env, array, 0, 1, &value);
}

/* dlopen + dlsym of every function; on failure error[0] gets the reason and 0 is returned. */
JNIEXPORT jlong JNICALL Java_io_basalt_backend_neuron_Nrt_nOpen(JNIEnv *env, jclass cls, jstring path, jobjectArray error) {
    (void)cls;
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (p == NULL) return 0;
    /* RTLD_LOCAL: libnrt's symbols must not leak into the JVM's global namespace. */
    void *dl = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    (*env)->ReleaseStringUTFChars(env, path, p);
    if (dl == NULL) {
        const char *why = dlerror();
        set_string(env, error, 0, why != NULL ? why : "dlopen failed");
        return 0;
    }
    lib_t *lib = calloc(1, sizeof *lib);
    if (lib == NULL) {
        set_string(env, error, 0, "out of memory");
        return 0;
    }
    lib->dl = dl;
#define REQUIRE(ret, name, args) \
    *(void **)(&lib->name) = dlsym(dl, #name); \
    if (lib->name == NULL) { \
        set_string(env, error, 0, "missing symbol " #name); \
        free(lib); \
        return 0; \
    }
    BASALT_NRT_FUNCTIONS(REQUIRE)
#undef REQUIRE
#define OPTIONAL(ret, name, args) *(void **)(&lib->name) = dlsym(dl, #name);
    BASALT_NRT_OPTIONAL_FUNCTIONS(OPTIONAL)
#undef OPTIONAL
    return (jlong)(intptr_t)lib;
}

/* Forgets the entry points. No dlclose: libnrt keeps threads and atexit work that must outlive us. */
JNIEXPORT void JNICALL Java_io_basalt_backend_neuron_Nrt_nRelease(JNIEnv *env, jclass cls, jlong lib) {
    (void)env; (void)cls;
    free(LIB(lib));
}

/* Our table first, so messages keep the NRT_* spelling whatever libnrt's own strings say; libnrt's for the rest. */
JNIEXPORT jstring JNICALL Java_io_basalt_backend_neuron_Nrt_nStatusName(JNIEnv *env, jclass cls, jlong lib, jint status) {
    (void)cls;
    const char *name = basalt_nrt_status_name(status);
    if (name == NULL && LIB(lib)->nrt_get_status_as_str != NULL) name = LIB(lib)->nrt_get_status_as_str(status);
    return name != NULL ? (*env)->NewStringUTF(env, name) : NULL;
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nVersion(JNIEnv *env, jclass cls, jlong lib, jlongArray numbers,
                                                                 jobjectArray text) {
    (void)cls;
    nrt_version_t v;
    memset(&v, 0, sizeof v);
    NRT_STATUS status = LIB(lib)->nrt_get_version(&v, sizeof v);
    if (status != NRT_SUCCESS) return status;
    jlong n[4] = {(jlong)v.rt_major, (jlong)v.rt_minor, (jlong)v.rt_patch, (jlong)v.rt_maintenance};
    (*env)->SetLongArrayRegion(env, numbers, 0, 4, n);
    /* Terminate defensively: the fields are fixed arrays that a runtime might fill to the brim. */
    v.rt_detail[sizeof v.rt_detail - 1] = 0;
    v.git_hash[sizeof v.git_hash - 1] = 0;
    set_string(env, text, 0, v.rt_detail);
    set_string(env, text, 1, v.git_hash);
    return status;
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nVisibleCores(JNIEnv *env, jclass cls, jlong lib, jintArray count) {
    (void)cls;
    uint32_t n = 0;
    NRT_STATUS status = LIB(lib)->nrt_get_visible_vnc_count != NULL ? LIB(lib)->nrt_get_visible_vnc_count(&n)
                                                                     : LIB(lib)->nrt_get_visible_nc_count(&n);
    jint value = (jint)n;
    (*env)->SetIntArrayRegion(env, count, 0, 1, &value);
    return status;
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nInit(JNIEnv *env, jclass cls, jlong lib) {
    (void)env; (void)cls;
    return LIB(lib)->nrt_init(NRT_FRAMEWORK_TYPE_NO_FW, "", "");
}

JNIEXPORT void JNICALL Java_io_basalt_backend_neuron_Nrt_nClose(JNIEnv *env, jclass cls, jlong lib) {
    (void)env; (void)cls;
    LIB(lib)->nrt_close();
}

/* neff is direct; [offset, offset + size) was checked against its capacity in Java. */
JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nLoad(JNIEnv *env, jclass cls, jlong lib, jobject neff, jlong offset,
                                                              jlong size, jint vnc, jlongArray model) {
    (void)cls;
    char *base = (*env)->GetDirectBufferAddress(env, neff);
    if (base == NULL) return NRT_INVALID;
    nrt_model_t *m = NULL;
    NRT_STATUS status = LIB(lib)->nrt_load(base + offset, (size_t)size, vnc, -1, &m);
    if (status == NRT_SUCCESS) set_long(env, model, (jlong)(intptr_t)m);
    return status;
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nLoadCollectives(JNIEnv *env, jclass cls, jlong lib, jobject neff,
                                                                         jlong offset, jlong size, jint vnc, jint rank,
                                                                         jint world, jlongArray model) {
    (void)cls;
    char *base = (*env)->GetDirectBufferAddress(env, neff);
    if (base == NULL) return NRT_INVALID;
    nrt_model_t *m = NULL;
    NRT_STATUS status =
        LIB(lib)->nrt_load_collectives(base + offset, (size_t)size, vnc, -1, (uint32_t)rank, (uint32_t)world, &m);
    if (status == NRT_SUCCESS) set_long(env, model, (jlong)(intptr_t)m);
    return status;
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nUnload(JNIEnv *env, jclass cls, jlong lib, jlong model) {
    (void)env; (void)cls;
    return LIB(lib)->nrt_unload(PTR(model));
}

/*
 * Copies the libnrt-owned info block into Java arrays (out = {String[] names, int[] usage, long[] size, int[] dtype,
 * long[][] shape}) and frees it at once, so no pointer into libnrt memory outlives this call.
 */
JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nTensorInfo(JNIEnv *env, jclass cls, jlong lib, jlong model,
                                                                    jobjectArray out) {
    (void)cls;
    nrt_tensor_info_array_t *info = NULL;
    NRT_STATUS status = LIB(lib)->nrt_get_model_tensor_info(PTR(model), &info);
    if (status != NRT_SUCCESS) return status;
    jsize n = (jsize)info->tensor_count;
    jobjectArray names = (*env)->NewObjectArray(env, n, (*env)->FindClass(env, "java/lang/String"), NULL);
    jintArray usage = (*env)->NewIntArray(env, n);
    jlongArray sizes = (*env)->NewLongArray(env, n);
    jintArray dtypes = (*env)->NewIntArray(env, n);
    jobjectArray shapes = (*env)->NewObjectArray(env, n, (*env)->FindClass(env, "[J"), NULL);
    for (jsize i = 0; i < n && !(*env)->ExceptionCheck(env); i++) {
        const nrt_tensor_info_t *t = &info->tensor_array[i];
        char name[NRT_TENSOR_NAME_MAX];
        memcpy(name, t->name, sizeof name);
        name[sizeof name - 1] = 0;
        set_string(env, names, i, name);
        jint u = t->usage, d = t->dtype;
        jlong s = (jlong)t->size;
        (*env)->SetIntArrayRegion(env, usage, i, 1, &u);
        (*env)->SetLongArrayRegion(env, sizes, i, 1, &s);
        (*env)->SetIntArrayRegion(env, dtypes, i, 1, &d);
        jlongArray shape = (*env)->NewLongArray(env, (jsize)t->ndim);
        if (shape == NULL) break;
        for (uint32_t k = 0; k < t->ndim; k++) {
            jlong dim = t->shape[k];
            (*env)->SetLongArrayRegion(env, shape, (jsize)k, 1, &dim);
        }
        (*env)->SetObjectArrayElement(env, shapes, i, shape);
        (*env)->DeleteLocalRef(env, shape);
    }
    LIB(lib)->nrt_free_model_tensor_info(info);
    if ((*env)->ExceptionCheck(env)) return NRT_FAILURE; /* the pending Java exception wins */
    (*env)->SetObjectArrayElement(env, out, 0, names);
    (*env)->SetObjectArrayElement(env, out, 1, usage);
    (*env)->SetObjectArrayElement(env, out, 2, sizes);
    (*env)->SetObjectArrayElement(env, out, 3, dtypes);
    (*env)->SetObjectArrayElement(env, out, 4, shapes);
    return NRT_SUCCESS;
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nAllocate(JNIEnv *env, jclass cls, jlong lib, jint vnc, jlong size,
                                                                  jstring name, jlongArray tensor) {
    (void)cls;
    const char *n = (*env)->GetStringUTFChars(env, name, NULL);
    if (n == NULL) return NRT_FAILURE;
    nrt_tensor_t *t = NULL;
    NRT_STATUS status = LIB(lib)->nrt_tensor_allocate(NRT_TENSOR_PLACEMENT_DEVICE, vnc, (size_t)size, n, &t);
    (*env)->ReleaseStringUTFChars(env, name, n);
    if (status == NRT_SUCCESS) set_long(env, tensor, (jlong)(intptr_t)t);
    return status;
}

JNIEXPORT void JNICALL Java_io_basalt_backend_neuron_Nrt_nFree(JNIEnv *env, jclass cls, jlong lib, jlong tensor) {
    (void)env; (void)cls;
    nrt_tensor_t *t = PTR(tensor);
    LIB(lib)->nrt_tensor_free(&t);
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nWrite(JNIEnv *env, jclass cls, jlong lib, jlong tensor, jobject src,
                                                               jlong position, jlong offset, jlong size) {
    (void)cls;
    char *base = (*env)->GetDirectBufferAddress(env, src);
    if (base == NULL) return NRT_INVALID;
    return LIB(lib)->nrt_tensor_write(PTR(tensor), base + position, (size_t)offset, (size_t)size);
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nRead(JNIEnv *env, jclass cls, jlong lib, jlong tensor, jobject dst,
                                                              jlong position, jlong offset, jlong size) {
    (void)cls;
    char *base = (*env)->GetDirectBufferAddress(env, dst);
    if (base == NULL) return NRT_INVALID;
    return LIB(lib)->nrt_tensor_read(PTR(tensor), base + position, (size_t)offset, (size_t)size);
}

/* Device to device, same core (a KV slot copied into another slot of the same state tensor). */
JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nCopy(JNIEnv *env, jclass cls, jlong lib, jlong src, jlong srcOffset,
                                                              jlong dst, jlong dstOffset, jlong size) {
    (void)env; (void)cls;
    return LIB(lib)->nrt_tensor_copy(PTR(src), (size_t)srcOffset, PTR(dst), (size_t)dstOffset, (size_t)size);
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nNewTensorSet(JNIEnv *env, jclass cls, jlong lib, jlongArray set) {
    (void)cls;
    nrt_tensor_set_t *s = NULL;
    NRT_STATUS status = LIB(lib)->nrt_allocate_tensor_set(&s);
    if (status == NRT_SUCCESS) set_long(env, set, (jlong)(intptr_t)s);
    return status;
}

JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nAdd(JNIEnv *env, jclass cls, jlong lib, jlong set, jstring name,
                                                             jlong tensor) {
    (void)cls;
    const char *n = (*env)->GetStringUTFChars(env, name, NULL);
    if (n == NULL) return NRT_FAILURE;
    NRT_STATUS status = LIB(lib)->nrt_add_tensor_to_tensor_set(PTR(set), n, PTR(tensor));
    (*env)->ReleaseStringUTFChars(env, name, n);
    return status;
}

JNIEXPORT void JNICALL Java_io_basalt_backend_neuron_Nrt_nDestroySet(JNIEnv *env, jclass cls, jlong lib, jlong set) {
    (void)env; (void)cls;
    nrt_tensor_set_t *s = PTR(set);
    LIB(lib)->nrt_destroy_tensor_set(&s);
}

/* No lock here: ranks of a collective NEFF must be inside nrt_execute at the same time. */
JNIEXPORT jint JNICALL Java_io_basalt_backend_neuron_Nrt_nExecute(JNIEnv *env, jclass cls, jlong lib, jlong model, jlong in,
                                                                 jlong out) {
    (void)env; (void)cls;
    return LIB(lib)->nrt_execute(PTR(model), PTR(in), PTR(out));
}
