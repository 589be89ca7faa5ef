package io.basalt.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one boundary to libcuda (docs/CUDA.md §3, §5): every driver function resolved through cuGetProcAddress_v2, every
 * CUresult other than CUDA_SUCCESS a {@link CudaException}. Together with {@link CublasLt} (which reads device
 * addresses through {@link #deviceAddress}) this is the whole native boundary of the backend: the handle classes below
 * keep their addresses privately, and nothing outside the package sees one.
 *
 * <p>The current context is per OS thread: call {@link #makeCurrent} on each thread first. Lifetimes are checked here,
 * before any native call: a freed buffer, a destroyed stream, an unloaded module or a closed {@code Cuda} is refused
 * with {@link IllegalStateException}, because the driver would read freed memory or, worse, someone else's.
 */
final class Cuda implements AutoCloseable {
    static final String LIBRARY_PROPERTY = "basalt.cuda.library";
    static final String LIBRARY_ENV = "BASALT_CUDA_LIBRARY";
    static final String LOADER_NAME = "libcuda.so.1";

    /** The ABI we bind: cuGetProcAddress_v2 returns the newest variant at or below min(driver, this). */
    static final int TARGET_VERSION = 13000;

    // CUresult values we act on (HARDWARE.md §5.2).
    static final int CUDA_ERROR_INVALID_VALUE = 1;
    static final int CUDA_ERROR_INVALID_CONTEXT = 201;
    static final int CUDA_ERROR_NOT_FOUND = 500;
    // Device attributes (HARDWARE.md §5.2).
    static final int ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    static final int ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    /** cuStreamBeginCapture mode: unsafe calls (sync copies, allocations) on this thread fail the capture loudly. */
    static final int CAPTURE_MODE_THREAD_LOCAL = 1;

    /** A launch's grid or block dimensions. */
    record Dim(int x, int y, int z) {
        static Dim of(int x) { return new Dim(x, 1, 1); }
        static Dim of(int x, int y) { return new Dim(x, y, 1); }
    }

    /** What every handle shares: its owner, its native value and whether it was released. */
    private abstract static class Handle {
        private final Cuda owner;
        private final long address;
        private final String what;
        private final AtomicBoolean released = new AtomicBoolean();

        Handle(Cuda owner, long address, String what) {
            this.owner = owner;
            this.address = address;
            this.what = what;
        }

        /** The live value; checked against the owner so handles never cross Cuda instances. */
        long live(Cuda cuda) {
            if (owner != cuda) throw new IllegalArgumentException(what + " belongs to another Cuda");
            cuda.ensureOpen();
            if (released.get()) throw new IllegalStateException(what + " was already released");
            return address;
        }

        /** Takes the value for releasing: exactly one caller gets it, later ones get IllegalStateException. */
        long release(Cuda cuda) {
            live(cuda);
            if (!released.compareAndSet(false, true)) throw new IllegalStateException(what + " was already released");
            return address;
        }

        boolean released() { return released.get(); }
    }

    /** One cuMemAlloc: the slices of it share this and die with it. */
    private static final class Allocation extends Handle {
        private final long size;

        private Allocation(Cuda owner, long address, long size) {
            super(owner, address, "device buffer");
            this.size = size;
        }
    }

    /** Device memory (cuMemAlloc); a slice shares its allocation and is never freed on its own. */
    static final class DeviceBuffer {
        private final Allocation allocation;
        private final long offset;
        private final long size;

        private DeviceBuffer(Allocation allocation, long offset, long size) {
            this.allocation = allocation;
            this.offset = offset;
            this.size = size;
        }

        long size() { return size; }

        /** {@code bytes} at {@code offset} of this buffer; valid as long as the allocation is. */
        DeviceBuffer slice(long offset, long bytes) {
            Objects.checkFromIndexSize(offset, bytes, size);
            return new DeviceBuffer(allocation, this.offset + offset, bytes);
        }

        private boolean isSlice() { return offset != 0 || size != allocation.size; }

        private long address(Cuda cuda) { return allocation.live(cuda) + offset; }
    }

    /** Pinned host memory (cuMemHostAlloc); its segment is closed (unusable from Java) when the buffer is freed. */
    static final class HostBuffer extends Handle {
        private final Arena scope;
        private final MemorySegment segment;

        private HostBuffer(Cuda owner, long address, long size) {
            super(owner, address, "pinned host buffer");
            this.scope = Arena.ofShared();
            this.segment = MemorySegment.ofAddress(address).reinterpret(size, scope, null);
        }

        /** The pinned memory; access after {@link Cuda#free(HostBuffer)} throws IllegalStateException. */
        MemorySegment segment() { return segment; }
    }

    static final class Stream extends Handle {
        private Stream(Cuda owner, long address) { super(owner, address, "stream"); }
    }

    static final class Event extends Handle {
        private Event(Cuda owner, long address) { super(owner, address, "event"); }
    }

    static final class Module extends Handle {
        private Module(Cuda owner, long address) { super(owner, address, "module"); }
    }

    /** A kernel of a loaded module; unusable once its module is unloaded. */
    static final class Function extends Handle {
        private final Module module;
        private final String name;

        private Function(Cuda owner, long address, Module module, String name) {
            super(owner, address, "function " + name);
            this.module = module;
            this.name = name;
        }

        String name() { return name; }

        @Override
        long live(Cuda cuda) {
            module.live(cuda);
            return super.live(cuda);
        }
    }

    static final class Graph extends Handle {
        private Graph(Cuda owner, long address) { super(owner, address, "graph"); }
    }

    static final class GraphExec extends Handle {
        private GraphExec(Cuda owner, long address) { super(owner, address, "graph exec"); }
    }

    private static final Linker LINKER = Linker.nativeLinker();

    /**
     * One driver function under its base name with its exact descriptor, resolved through cuGetProcAddress_v2 on
     * first use: a function the backend never calls need not exist in an older driver.
     */
    private final class Fn {
        private final String name;
        private final FunctionDescriptor descriptor;
        private volatile MethodHandle handle;

        private Fn(String name, FunctionDescriptor descriptor) {
            this.name = name;
            this.descriptor = descriptor;
        }

        MethodHandle handle() {
            MethodHandle h = handle;
            if (h == null) handle = h = LINKER.downcallHandle(resolve(name), descriptor);
            return h;
        }
    }

    private static FunctionDescriptor fd(MemoryLayout... args) { return FunctionDescriptor.of(JAVA_INT, args); }

    // CUdeviceptr and size_t = JAVA_LONG; int, unsigned int, CUdevice and enums = JAVA_INT; handles and pointers = ADDRESS.
    private final Fn cuInit = new Fn("cuInit", fd(JAVA_INT));
    private final Fn cuGetErrorName = new Fn("cuGetErrorName", fd(JAVA_INT, ADDRESS));
    private final Fn cuDeviceGetCount = new Fn("cuDeviceGetCount", fd(ADDRESS));
    private final Fn cuDeviceGet = new Fn("cuDeviceGet", fd(ADDRESS, JAVA_INT));
    private final Fn cuDeviceGetName = new Fn("cuDeviceGetName", fd(ADDRESS, JAVA_INT, JAVA_INT));
    private final Fn cuDeviceGetAttribute = new Fn("cuDeviceGetAttribute", fd(ADDRESS, JAVA_INT, JAVA_INT));
    private final Fn cuDeviceTotalMem = new Fn("cuDeviceTotalMem", fd(ADDRESS, JAVA_INT));
    private final Fn cuDevicePrimaryCtxRetain = new Fn("cuDevicePrimaryCtxRetain", fd(ADDRESS, JAVA_INT));
    private final Fn cuDevicePrimaryCtxRelease = new Fn("cuDevicePrimaryCtxRelease", fd(JAVA_INT));
    private final Fn cuCtxSetCurrent = new Fn("cuCtxSetCurrent", fd(ADDRESS));
    private final Fn cuMemAlloc = new Fn("cuMemAlloc", fd(ADDRESS, JAVA_LONG));
    private final Fn cuMemFree = new Fn("cuMemFree", fd(JAVA_LONG));
    private final Fn cuMemGetInfo = new Fn("cuMemGetInfo", fd(ADDRESS, ADDRESS));
    private final Fn cuMemHostAlloc = new Fn("cuMemHostAlloc", fd(ADDRESS, JAVA_LONG, JAVA_INT));
    private final Fn cuMemFreeHost = new Fn("cuMemFreeHost", fd(ADDRESS));
    private final Fn cuMemcpyHtoD = new Fn("cuMemcpyHtoD", fd(JAVA_LONG, ADDRESS, JAVA_LONG));
    private final Fn cuMemcpyDtoH = new Fn("cuMemcpyDtoH", fd(ADDRESS, JAVA_LONG, JAVA_LONG));
    private final Fn cuMemcpyDtoD = new Fn("cuMemcpyDtoD", fd(JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private final Fn cuMemcpyHtoDAsync = new Fn("cuMemcpyHtoDAsync", fd(JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    private final Fn cuMemcpyDtoHAsync = new Fn("cuMemcpyDtoHAsync", fd(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    private final Fn cuMemcpyDtoDAsync = new Fn("cuMemcpyDtoDAsync", fd(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
    private final Fn cuMemsetD8 = new Fn("cuMemsetD8", fd(JAVA_LONG, JAVA_BYTE, JAVA_LONG));
    private final Fn cuMemsetD8Async = new Fn("cuMemsetD8Async", fd(JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
    private final Fn cuStreamCreate = new Fn("cuStreamCreate", fd(ADDRESS, JAVA_INT));
    private final Fn cuStreamSynchronize = new Fn("cuStreamSynchronize", fd(ADDRESS));
    private final Fn cuStreamDestroy = new Fn("cuStreamDestroy", fd(ADDRESS));
    private final Fn cuEventCreate = new Fn("cuEventCreate", fd(ADDRESS, JAVA_INT));
    private final Fn cuEventRecord = new Fn("cuEventRecord", fd(ADDRESS, ADDRESS));
    private final Fn cuEventElapsedTime = new Fn("cuEventElapsedTime", fd(ADDRESS, ADDRESS, ADDRESS));
    private final Fn cuEventDestroy = new Fn("cuEventDestroy", fd(ADDRESS));
    private final Fn cuModuleLoadData = new Fn("cuModuleLoadData", fd(ADDRESS, ADDRESS));
    private final Fn cuModuleGetFunction = new Fn("cuModuleGetFunction", fd(ADDRESS, ADDRESS, ADDRESS));
    private final Fn cuModuleUnload = new Fn("cuModuleUnload", fd(ADDRESS));
    private final Fn cuLaunchKernel = new Fn("cuLaunchKernel", fd(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private final Fn cuStreamBeginCapture = new Fn("cuStreamBeginCapture", fd(ADDRESS, JAVA_INT));
    private final Fn cuStreamEndCapture = new Fn("cuStreamEndCapture", fd(ADDRESS, ADDRESS));
    private final Fn cuGraphInstantiateWithFlags = new Fn("cuGraphInstantiateWithFlags", fd(ADDRESS, ADDRESS, JAVA_LONG));
    private final Fn cuGraphLaunch = new Fn("cuGraphLaunch", fd(ADDRESS, ADDRESS));
    private final Fn cuGraphDestroy = new Fn("cuGraphDestroy", fd(ADDRESS));
    private final Fn cuGraphExecDestroy = new Fn("cuGraphExecDestroy", fd(ADDRESS));

    private final Path library;
    private final MethodHandle getProcAddress;
    private final int driverVersion;
    private final int procVersion;
    /** A primary context we retained: released (by CUdevice) in close(). */
    private record Retained(int device, long context) { }

    /** ordinal → retained primary context; guarded by itself. */
    private final Map<Integer, Retained> primaryContexts = new LinkedHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Cuda(Path library, MethodHandle getProcAddress, int driverVersion) {
        this.library = library;
        this.getProcAddress = getProcAddress;
        this.driverVersion = driverVersion;
        this.procVersion = Math.min(driverVersion, TARGET_VERSION);
    }

    /**
     * Loads libcuda and calls cuInit(0): {@code library} when given, else {@code -Dbasalt.cuda.library}, else
     * {@code BASALT_CUDA_LIBRARY}, else {@code libcuda.so.1} on the loader path. A configured location (the first one
     * set) is the only one tried: silently falling back to another driver would hide a misconfiguration. Fails with
     * IllegalStateException naming every place tried.
     */
    static Cuda open(Path library) {
        String property = System.getProperty(LIBRARY_PROPERTY);
        String env = System.getenv(LIBRARY_ENV);
        String candidate;
        String where;
        if (library != null) {
            candidate = library.toString();
            where = "given to Cuda.open";
        } else if (property != null && !property.isBlank()) {
            candidate = property;
            where = "system property " + LIBRARY_PROPERTY;
        } else if (env != null && !env.isBlank()) {
            candidate = env;
            where = "environment variable " + LIBRARY_ENV;
        } else {
            candidate = LOADER_NAME;
            where = "loader path";
        }
        SymbolLookup lookup;
        try {
            lookup = load(candidate);
        } catch (IllegalArgumentException e) {
            String unset = library != null ? "" : " (" + LIBRARY_PROPERTY + " and " + LIBRARY_ENV
                    + (where.equals("loader path") ? " are unset" : " are checked in that order") + ")";
            throw new IllegalStateException("libcuda could not be loaded; tried " + candidate + " (" + where + ")"
                    + unset + ": " + e.getMessage() + "; set " + LIBRARY_PROPERTY + " or " + LIBRARY_ENV
                    + " to the driver library's path", e);
        }
        // Only these two by symbol: every other function has several ABIs under versioned names (HARDWARE.md §5.1).
        MemorySegment procSymbol = lookup.find("cuGetProcAddress_v2").orElseThrow(() -> new IllegalStateException(
                candidate + " is not a usable CUDA driver: it has no cuGetProcAddress_v2 (a CUDA 12 or newer driver is needed)"));
        MemorySegment versionSymbol = lookup.find("cuDriverGetVersion").orElseThrow(() -> new IllegalStateException(
                candidate + " is not a usable CUDA driver: it has no cuDriverGetVersion"));
        MethodHandle getProcAddress = LINKER.downcallHandle(procSymbol,
                fd(ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        MethodHandle getVersion = LINKER.downcallHandle(versionSymbol, fd(ADDRESS));
        int version;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            int result = (int) getVersion.invokeExact(out);
            if (result != 0) throw new CudaException("cuDriverGetVersion", result, fallbackName(result));
            version = out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        Cuda cuda = new Cuda(Path.of(candidate), getProcAddress, version);
        try {
            cuda.check(cuda.cuInit, (int) cuda.cuInit.handle().invokeExact(0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return cuda;
    }

    /**
     * dlopen through FFM; a bare file name goes through the loader path. The library stays loaded for the life of the
     * process (global arena): the driver is not meant to be unloaded and re-initialised, and a bound method handle
     * must never outlive its library.
     */
    private static SymbolLookup load(String candidate) {
        Path path = Path.of(candidate);
        if (path.getParent() == null) return SymbolLookup.libraryLookup(candidate, Arena.global());
        return SymbolLookup.libraryLookup(path.toAbsolutePath(), Arena.global());
    }

    /** cuGetProcAddress_v2(name, &pfn, min(driver, 13000), DEFAULT, &status): the newest ABI at or below that version. */
    private MemorySegment resolve(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfn = arena.allocate(ADDRESS);
            MemorySegment status = arena.allocate(JAVA_INT);
            int result = (int) getProcAddress.invokeExact(arena.allocateFrom(name), pfn, procVersion, 0L, status);
            if (result != 0) throw new CudaException("cuGetProcAddress_v2", result, errorName(result));
            MemorySegment fn = pfn.get(ADDRESS, 0);
            if (fn.equals(MemorySegment.NULL)) {
                int s = status.get(JAVA_INT, 0);
                String why = s == 1 ? "SYMBOL_NOT_FOUND" : s == 2 ? "VERSION_NOT_SUFFICIENT" : "status " + s;
                throw new IllegalStateException(library + " (driver " + driverVersion + ") does not provide " + name
                        + " at CUDA version " + procVersion + ": cuGetProcAddress_v2 says " + why);
            }
            return fn;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void check(Fn fn, int result) {
        if (result != 0) throw new CudaException(fn.name, result, errorName(result));
    }

    /** The driver's name for a CUresult (cuGetErrorName), else our table (HARDWARE.md §5.2). */
    String errorName(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) cuGetErrorName.handle().invokeExact(result, out);
            MemorySegment name = out.get(ADDRESS, 0);
            if (r == 0 && !name.equals(MemorySegment.NULL)) return name.reinterpret(256).getString(0);
        } catch (Throwable ignored) {
            // The name is a courtesy: a driver that cannot give one still gets its error reported, from our table.
        }
        return fallbackName(result);
    }

    static String fallbackName(int result) {
        return switch (result) {
            case 0 -> "CUDA_SUCCESS";
            case 1 -> "CUDA_ERROR_INVALID_VALUE";
            case 2 -> "CUDA_ERROR_OUT_OF_MEMORY";
            case 3 -> "CUDA_ERROR_NOT_INITIALIZED";
            case 4 -> "CUDA_ERROR_DEINITIALIZED";
            case 34 -> "CUDA_ERROR_STUB_LIBRARY";
            case 36 -> "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER";
            case 100 -> "CUDA_ERROR_NO_DEVICE";
            case 101 -> "CUDA_ERROR_INVALID_DEVICE";
            case 200 -> "CUDA_ERROR_INVALID_IMAGE";
            case 201 -> "CUDA_ERROR_INVALID_CONTEXT";
            case 209 -> "CUDA_ERROR_NO_BINARY_FOR_GPU";
            case 218 -> "CUDA_ERROR_INVALID_PTX";
            case 221 -> "CUDA_ERROR_JIT_COMPILER_NOT_FOUND";
            case 222 -> "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
            case 301 -> "CUDA_ERROR_FILE_NOT_FOUND";
            case 400 -> "CUDA_ERROR_INVALID_HANDLE";
            case 401 -> "CUDA_ERROR_ILLEGAL_STATE";
            case 500 -> "CUDA_ERROR_NOT_FOUND";
            case 600 -> "CUDA_ERROR_NOT_READY";
            case 700 -> "CUDA_ERROR_ILLEGAL_ADDRESS";
            case 701 -> "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
            case 702 -> "CUDA_ERROR_LAUNCH_TIMEOUT";
            case 719 -> "CUDA_ERROR_LAUNCH_FAILED";
            case 800 -> "CUDA_ERROR_NOT_PERMITTED";
            case 801 -> "CUDA_ERROR_NOT_SUPPORTED";
            case 803 -> "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
            case 900 -> "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED";
            case 901 -> "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED";
            case 999 -> "CUDA_ERROR_UNKNOWN";
            default -> "unknown CUresult";
        };
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private void ensureOpen() {
        if (closed.get()) throw new IllegalStateException("Cuda (" + library + ") is closed");
    }

    Path library() { return library; }

    int driverVersion() { return driverVersion; }

    int deviceCount() {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check(cuDeviceGetCount, (int) cuDeviceGetCount.handle().invokeExact(out));
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The CUdevice of an ordinal (cuDeviceGet); today equal to it, but the driver does not promise that. */
    private int device(int ordinal) {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check(cuDeviceGet, (int) cuDeviceGet.handle().invokeExact(out, ordinal));
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    String deviceName(int device) {
        int dev = device(device);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(256);
            check(cuDeviceGetName, (int) cuDeviceGetName.handle().invokeExact(out, 256, dev));
            return out.getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    long totalMemory(int device) {
        int dev = device(device);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check(cuDeviceTotalMem, (int) cuDeviceTotalMem.handle().invokeExact(out, dev));
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int attribute(int device, int attribute) {
        int dev = device(device);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check(cuDeviceGetAttribute, (int) cuDeviceGetAttribute.handle().invokeExact(out, attribute, dev));
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {major, minor}. */
    int[] computeCapability(int device) {
        return new int[] {attribute(device, ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(device, ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)};
    }

    /** Retains the device's primary context (once) and makes it current on the calling thread. */
    void makeCurrent(int device) {
        ensureOpen();
        long ctx;
        synchronized (primaryContexts) {
            Retained retained = primaryContexts.get(device);
            if (retained == null) {
                int dev = device(device);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment out = arena.allocate(ADDRESS);
                    check(cuDevicePrimaryCtxRetain, (int) cuDevicePrimaryCtxRetain.handle().invokeExact(out, dev));
                    retained = new Retained(dev, out.get(ADDRESS, 0).address());
                } catch (Throwable t) {
                    throw rethrow(t);
                }
                primaryContexts.put(device, retained);
            }
            ctx = retained.context();
        }
        try {
            check(cuCtxSetCurrent, (int) cuCtxSetCurrent.handle().invokeExact(MemorySegment.ofAddress(ctx)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    DeviceBuffer alloc(long bytes) {
        ensureOpen();
        if (bytes <= 0) throw new IllegalArgumentException("alloc of " + bytes + " bytes");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check(cuMemAlloc, (int) cuMemAlloc.handle().invokeExact(out, bytes));
            return new DeviceBuffer(new Allocation(this, out.get(JAVA_LONG, 0), bytes), 0, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Frees a whole allocation (not a slice); its slices die with it. */
    void free(DeviceBuffer buffer) {
        buffer.address(this);
        if (buffer.isSlice()) throw new IllegalArgumentException("a slice is never freed on its own; free its buffer");
        long address = buffer.allocation.release(this);
        try {
            check(cuMemFree, (int) cuMemFree.handle().invokeExact(address));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The device address of a live buffer. For {@link CublasLt} only, the other half of the native boundary: every
     * other class hands buffers to Cuda's methods instead.
     */
    long deviceAddress(DeviceBuffer buffer) { return buffer.address(this); }

    /** The native value of a live stream (null: the legacy default stream, 0), for {@link CublasLt} only. */
    MemorySegment streamHandle(Stream stream) { return stream(stream); }

    HostBuffer allocPinned(long bytes) {
        ensureOpen();
        if (bytes <= 0) throw new IllegalArgumentException("allocPinned of " + bytes + " bytes");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(cuMemHostAlloc, (int) cuMemHostAlloc.handle().invokeExact(out, bytes, 0));
            return new HostBuffer(this, out.get(ADDRESS, 0).address(), bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void free(HostBuffer buffer) {
        long address = buffer.release(this);
        buffer.scope.close(); // Java can no longer touch it before the driver takes it back
        try {
            check(cuMemFreeHost, (int) cuMemFreeHost.handle().invokeExact(MemorySegment.ofAddress(address)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {free, total} bytes of the current device. */
    long[] memInfo() {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(JAVA_LONG);
            MemorySegment total = arena.allocate(JAVA_LONG);
            check(cuMemGetInfo, (int) cuMemGetInfo.handle().invokeExact(free, total));
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private MemorySegment stream(Stream stream) {
        ensureOpen();
        return stream == null ? MemorySegment.NULL : MemorySegment.ofAddress(stream.live(this));
    }

    /**
     * An asynchronous copy reads or writes the host memory after the call returns, so it must be native memory that
     * outlives the copy (pinned for a truly asynchronous one); a heap array cannot be handed to the driver at all.
     */
    private static void requireNative(MemorySegment host, Stream stream) {
        if (!host.isNative() && stream != null) {
            throw new IllegalArgumentException("an asynchronous copy needs native (ideally pinned) host memory");
        }
    }

    /** src's bytes into dst (dst.size() ≥ src.byteSize()); {@code stream} null: synchronous. */
    void copyToDevice(DeviceBuffer dst, MemorySegment src, Stream stream) {
        long bytes = src.byteSize();
        requireFits(bytes, dst.size(), "copyToDevice");
        long address = dst.address(this);
        requireNative(src, stream);
        MemorySegment s = stream(stream);
        try (Arena arena = Arena.ofConfined()) {
            if (stream == null) {
                MemorySegment from = src.isNative() ? src : arena.allocate(bytes, 16).copyFrom(src);
                check(cuMemcpyHtoD, (int) cuMemcpyHtoD.handle().invokeExact(address, from, bytes));
            } else {
                check(cuMemcpyHtoDAsync, (int) cuMemcpyHtoDAsync.handle().invokeExact(address, src, bytes, s));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** dst.byteSize() bytes of src into dst (src.size() ≥ dst.byteSize()); {@code stream} null: synchronous. */
    void copyToHost(MemorySegment dst, DeviceBuffer src, Stream stream) {
        long bytes = dst.byteSize();
        requireFits(bytes, src.size(), "copyToHost");
        long address = src.address(this);
        requireNative(dst, stream);
        MemorySegment s = stream(stream);
        try (Arena arena = Arena.ofConfined()) {
            if (stream == null) {
                MemorySegment to = dst.isNative() ? dst : arena.allocate(bytes, 16);
                check(cuMemcpyDtoH, (int) cuMemcpyDtoH.handle().invokeExact(to, address, bytes));
                if (to != dst) dst.copyFrom(to);
            } else {
                check(cuMemcpyDtoHAsync, (int) cuMemcpyDtoHAsync.handle().invokeExact(dst, address, bytes, s));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** src.size() bytes into dst (dst.size() ≥ src.size()); {@code stream} null: synchronous. */
    void copyDeviceToDevice(DeviceBuffer dst, DeviceBuffer src, Stream stream) {
        long bytes = src.size();
        requireFits(bytes, dst.size(), "copyDeviceToDevice");
        long to = dst.address(this);
        long from = src.address(this);
        MemorySegment s = stream(stream);
        try {
            if (stream == null) {
                check(cuMemcpyDtoD, (int) cuMemcpyDtoD.handle().invokeExact(to, from, bytes));
            } else {
                check(cuMemcpyDtoDAsync, (int) cuMemcpyDtoDAsync.handle().invokeExact(to, from, bytes, s));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void requireFits(long bytes, long room, String what) {
        if (bytes > room) throw new IndexOutOfBoundsException(what + " of " + bytes + " bytes into " + room);
    }

    void memsetZero(DeviceBuffer buffer, Stream stream) {
        long address = buffer.address(this);
        MemorySegment s = stream(stream);
        try {
            if (stream == null) {
                check(cuMemsetD8, (int) cuMemsetD8.handle().invokeExact(address, (byte) 0, buffer.size()));
            } else {
                check(cuMemsetD8Async, (int) cuMemsetD8Async.handle().invokeExact(address, (byte) 0, buffer.size(), s));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A non-blocking stream: it never synchronizes with the legacy default stream. */
    Stream newStream() {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(cuStreamCreate, (int) cuStreamCreate.handle().invokeExact(out, 1 /* CU_STREAM_NON_BLOCKING */));
            return new Stream(this, out.get(ADDRESS, 0).address());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Waits for the stream's work (null: the legacy default stream). */
    void synchronize(Stream stream) {
        MemorySegment s = stream(stream);
        try {
            check(cuStreamSynchronize, (int) cuStreamSynchronize.handle().invokeExact(s));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void destroy(Stream stream) {
        long address = stream.release(this);
        try {
            check(cuStreamDestroy, (int) cuStreamDestroy.handle().invokeExact(MemorySegment.ofAddress(address)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An event with timing (flags 0). */
    Event newEvent() {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(cuEventCreate, (int) cuEventCreate.handle().invokeExact(out, 0));
            return new Event(this, out.get(ADDRESS, 0).address());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void record(Event event, Stream stream) {
        MemorySegment e = MemorySegment.ofAddress(event.live(this));
        MemorySegment s = stream(stream);
        try {
            check(cuEventRecord, (int) cuEventRecord.handle().invokeExact(e, s));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Milliseconds between two recorded events; both must have completed (synchronize their stream first). */
    float elapsedMillis(Event start, Event end) {
        MemorySegment a = MemorySegment.ofAddress(start.live(this));
        MemorySegment b = MemorySegment.ofAddress(end.live(this));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT);
            check(cuEventElapsedTime, (int) cuEventElapsedTime.handle().invokeExact(out, a, b));
            return out.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void destroy(Event event) {
        long address = event.release(this);
        try {
            check(cuEventDestroy, (int) cuEventDestroy.handle().invokeExact(MemorySegment.ofAddress(address)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** cuModuleLoadData: a fatbin, cubin or NUL-terminated PTX (copied to native memory first when on the heap). */
    Module loadModule(MemorySegment image) {
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native_ = image.isNative() ? image : arena.allocate(image.byteSize(), 16).copyFrom(image);
            MemorySegment out = arena.allocate(ADDRESS);
            check(cuModuleLoadData, (int) cuModuleLoadData.handle().invokeExact(out, native_));
            return new Module(this, out.get(ADDRESS, 0).address());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    Function function(Module module, String name) {
        MemorySegment m = MemorySegment.ofAddress(module.live(this));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(cuModuleGetFunction, (int) cuModuleGetFunction.handle().invokeExact(out, m, arena.allocateFrom(name)));
            return new Function(this, out.get(ADDRESS, 0).address(), module, name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Unloads the module; its functions are refused from then on. */
    void unload(Module module) {
        long address = module.release(this);
        try {
            check(cuModuleUnload, (int) cuModuleUnload.handle().invokeExact(MemorySegment.ofAddress(address)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * cuLaunchKernel with {@code args} in the kernel's ABI order (kernels/cuda/kernels.abi): a {@link DeviceBuffer} (its
     * address), null (a 0 pointer, for parameters marked opt), Integer (i32), Long (i64), Float (f32). The driver
     * copies the values at the call (also while capturing a graph), so they live in a confined arena for the call only.
     */
    void launch(Function function, Dim grid, Dim block, int sharedBytes, Stream stream, Object... args) {
        MemorySegment f = MemorySegment.ofAddress(function.live(this));
        MemorySegment s = stream(stream);
        try (Arena arena = Arena.ofConfined()) {
            int n = args.length;
            // One 8-byte slot per value (every ABI type fits and stays aligned), and the array of pointers to them.
            MemorySegment values = arena.allocate(8L * Math.max(n, 1), 8);
            MemorySegment params = arena.allocate(ADDRESS, Math.max(n, 1));
            for (int i = 0; i < n; i++) {
                MemorySegment slot = values.asSlice(8L * i, 8);
                switch (args[i]) {
                    case null -> slot.set(JAVA_LONG, 0, 0L);
                    case DeviceBuffer b -> slot.set(JAVA_LONG, 0, b.address(this));
                    case Integer v -> slot.set(JAVA_INT, 0, v);
                    case Long v -> slot.set(JAVA_LONG, 0, v);
                    case Float v -> slot.set(JAVA_FLOAT, 0, v);
                    default -> throw new IllegalArgumentException("argument " + i + " of " + function.name()
                            + " is a " + args[i].getClass().getSimpleName()
                            + "; a kernel takes DeviceBuffer, null, Integer, Long or Float");
                }
                params.setAtIndex(ADDRESS, i, slot);
            }
            // A local, not a conditional in the call: invokeExact sees a conditional's type as Object.
            MemorySegment kernelParams = n == 0 ? MemorySegment.NULL : params;
            check(cuLaunchKernel, (int) cuLaunchKernel.handle().invokeExact(f, grid.x(), grid.y(), grid.z(),
                    block.x(), block.y(), block.z(), sharedBytes, s, kernelParams, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** cuStreamBeginCapture (the _v2 ABI) in THREAD_LOCAL mode: launches and async copies are recorded, not run. */
    void beginCapture(Stream stream) {
        MemorySegment s = MemorySegment.ofAddress(Objects.requireNonNull(stream, "capture needs a stream").live(this));
        try {
            check(cuStreamBeginCapture, (int) cuStreamBeginCapture.handle().invokeExact(s, CAPTURE_MODE_THREAD_LOCAL));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    Graph endCapture(Stream stream) {
        MemorySegment s = MemorySegment.ofAddress(Objects.requireNonNull(stream, "capture needs a stream").live(this));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(cuStreamEndCapture, (int) cuStreamEndCapture.handle().invokeExact(s, out));
            return new Graph(this, out.get(ADDRESS, 0).address());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    GraphExec instantiate(Graph graph) {
        MemorySegment g = MemorySegment.ofAddress(graph.live(this));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check(cuGraphInstantiateWithFlags, (int) cuGraphInstantiateWithFlags.handle().invokeExact(out, g, 0L));
            return new GraphExec(this, out.get(ADDRESS, 0).address());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void launch(GraphExec exec, Stream stream) {
        MemorySegment e = MemorySegment.ofAddress(exec.live(this));
        MemorySegment s = stream(stream);
        try {
            check(cuGraphLaunch, (int) cuGraphLaunch.handle().invokeExact(e, s));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void destroy(Graph graph) {
        long address = graph.release(this);
        try {
            check(cuGraphDestroy, (int) cuGraphDestroy.handle().invokeExact(MemorySegment.ofAddress(address)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void destroy(GraphExec exec) {
        long address = exec.release(this);
        try {
            check(cuGraphExecDestroy, (int) cuGraphExecDestroy.handle().invokeExact(MemorySegment.ofAddress(address)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Releases the primary contexts. Buffers, modules, streams and graphs must be freed first. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        CudaException first = null;
        synchronized (primaryContexts) {
            for (Retained retained : primaryContexts.values()) {
                try {
                    check(cuDevicePrimaryCtxRelease,
                            (int) cuDevicePrimaryCtxRelease.handle().invokeExact(retained.device()));
                } catch (CudaException e) {
                    if (first == null) first = e; else first.addSuppressed(e);
                } catch (Throwable t) {
                    throw rethrow(t);
                }
            }
            primaryContexts.clear();
        }
        if (first != null) throw first;
    }
}
