package io.basalt.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * The one boundary to libcuda (docs/CUDA.md §3, §5): every driver function resolved through cuGetProcAddress_v2, every
 * CUresult other than CUDA_SUCCESS a {@link CudaException}. The only class that holds raw addresses: the handle classes
 * below keep them privately. The current context is per OS thread: call {@link #makeCurrent} on each thread first.
 *
 * <p>SKELETON: this API is the contract the backend is written against; the bodies are filled in with the FFM layer.
 */
final class Cuda implements AutoCloseable {
    /** A launch's grid or block dimensions. */
    record Dim(int x, int y, int z) {
        static Dim of(int x) { return new Dim(x, 1, 1); }
        static Dim of(int x, int y) { return new Dim(x, y, 1); }
    }

    /** Device memory (cuMemAlloc); a slice shares its allocation and is never freed on its own. */
    static final class DeviceBuffer {
        private DeviceBuffer() { }

        long size() { throw new UnsupportedOperationException("skeleton"); }

        DeviceBuffer slice(long offset, long bytes) { throw new UnsupportedOperationException("skeleton"); }
    }

    /** Pinned host memory (cuMemHostAlloc). */
    static final class HostBuffer {
        private HostBuffer() { }

        MemorySegment segment() { throw new UnsupportedOperationException("skeleton"); }
    }

    static final class Stream { private Stream() { } }

    static final class Event { private Event() { } }

    static final class Module { private Module() { } }

    static final class Function {
        private Function() { }

        String name() { throw new UnsupportedOperationException("skeleton"); }
    }

    static final class Graph { private Graph() { } }

    static final class GraphExec { private GraphExec() { } }

    /** Loads libcuda (null: -Dbasalt.cuda.library, BASALT_CUDA_LIBRARY, libcuda.so.1) and calls cuInit(0). */
    static Cuda open(Path library) { throw new UnsupportedOperationException("skeleton"); }

    Path library() { throw new UnsupportedOperationException("skeleton"); }

    int driverVersion() { throw new UnsupportedOperationException("skeleton"); }

    int deviceCount() { throw new UnsupportedOperationException("skeleton"); }

    String deviceName(int device) { throw new UnsupportedOperationException("skeleton"); }

    long totalMemory(int device) { throw new UnsupportedOperationException("skeleton"); }

    int attribute(int device, int attribute) { throw new UnsupportedOperationException("skeleton"); }

    /** {major, minor}. */
    int[] computeCapability(int device) { throw new UnsupportedOperationException("skeleton"); }

    /** Retains the device's primary context (once) and makes it current on the calling thread. */
    void makeCurrent(int device) { throw new UnsupportedOperationException("skeleton"); }

    DeviceBuffer alloc(long bytes) { throw new UnsupportedOperationException("skeleton"); }

    void free(DeviceBuffer buffer) { throw new UnsupportedOperationException("skeleton"); }

    HostBuffer allocPinned(long bytes) { throw new UnsupportedOperationException("skeleton"); }

    void free(HostBuffer buffer) { throw new UnsupportedOperationException("skeleton"); }

    /** {free, total} bytes of the current device. */
    long[] memInfo() { throw new UnsupportedOperationException("skeleton"); }

    /** src's bytes into dst (dst.size() ≥ src.byteSize()); {@code stream} null: synchronous. */
    void copyToDevice(DeviceBuffer dst, MemorySegment src, Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    void copyToHost(MemorySegment dst, DeviceBuffer src, Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    void copyDeviceToDevice(DeviceBuffer dst, DeviceBuffer src, Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    void memsetZero(DeviceBuffer buffer, Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    Stream newStream() { throw new UnsupportedOperationException("skeleton"); }

    void synchronize(Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    void destroy(Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    Event newEvent() { throw new UnsupportedOperationException("skeleton"); }

    void record(Event event, Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    float elapsedMillis(Event start, Event end) { throw new UnsupportedOperationException("skeleton"); }

    void destroy(Event event) { throw new UnsupportedOperationException("skeleton"); }

    /** cuModuleLoadData: a fatbin, cubin or NUL-terminated PTX. */
    Module loadModule(MemorySegment image) { throw new UnsupportedOperationException("skeleton"); }

    Function function(Module module, String name) { throw new UnsupportedOperationException("skeleton"); }

    void unload(Module module) { throw new UnsupportedOperationException("skeleton"); }

    /**
     * cuLaunchKernel with {@code args} in the kernel's ABI order (kernels/cuda/kernels.abi): a {@link DeviceBuffer} (its
     * address), null (a 0 pointer, for parameters marked opt), Integer (i32), Long (i64), Float (f32).
     */
    void launch(Function function, Dim grid, Dim block, int sharedBytes, Stream stream, Object... args) {
        throw new UnsupportedOperationException("skeleton");
    }

    void beginCapture(Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    Graph endCapture(Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    GraphExec instantiate(Graph graph) { throw new UnsupportedOperationException("skeleton"); }

    void launch(GraphExec exec, Stream stream) { throw new UnsupportedOperationException("skeleton"); }

    void destroy(Graph graph) { throw new UnsupportedOperationException("skeleton"); }

    void destroy(GraphExec exec) { throw new UnsupportedOperationException("skeleton"); }

    /** Releases the primary context. Buffers, modules, streams and graphs must be freed first. */
    @Override
    public void close() { throw new UnsupportedOperationException("skeleton"); }
}
