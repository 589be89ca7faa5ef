package io.basalt.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The cuBLASLt half of the native boundary (docs/CUDA.md §1, §3): y[n][rows] = x[n][cols] · Wᵀ (+ bias) with W
 * row-major [rows][cols], fp32 accumulation and fp32 output. With {@link Cuda} it is the whole native boundary of the
 * backend; it reads device addresses only through {@link Cuda#deviceAddress}.
 *
 * <p>cuBLAS is column-major, so the row-major product is computed as its transpose: W row-major [rows][cols] is the
 * column-major cols×rows matrix A (ld = cols) taken with TRANSA = T, x row-major [n][cols] is the column-major cols×n
 * matrix B (ld = cols), and D = op(A)·B is column-major rows×n (ld = rows), which is y row-major [n][rows]. The bias is
 * the BIAS epilogue (one value per row of D, i.e. per output feature). Descriptors, layouts and the heuristic's algorithm
 * are made once per shape and reused: graphs replay the same pointers and sizes, and the heuristic is not free.
 *
 * <p>Absent cuBLASLt is not an error: {@link #open} returns empty and the backend does every GEMM with basalt_matmul.
 */
final class CublasLt implements AutoCloseable {
    static final String LIBRARY_PROPERTY = "basalt.cublaslt.library";
    static final String LIBRARY_ENV = "BASALT_CUBLASLT_LIBRARY";
    static final List<String> LOADER_NAMES = List.of("libcublasLt.so.13", "libcublasLt.so.12");

    /** Hopper wants 32 MiB of workspace for its best kernels (../shared/docs/CUDA.md §6.6); allocated once. */
    static final long WORKSPACE_BYTES = 32L << 20;

    /** The input type of both W and x: cuBLASLt multiplies like types (bf16·bf16 or fp32·fp32). */
    enum DType {
        FP32(0 /* CUDA_R_32F */, 4), BF16(14 /* CUDA_R_16BF */, 2);

        final int cudaType;
        final int bytes;

        DType(int cudaType, int bytes) {
            this.cudaType = cudaType;
            this.bytes = bytes;
        }
    }

    private static final int CUDA_R_32F = 0;
    private static final int CUBLAS_COMPUTE_32F = 68;
    private static final int CUBLAS_OP_N = 0;
    private static final int CUBLAS_OP_T = 1;
    private static final int DESC_TRANSA = 3;
    private static final int DESC_TRANSB = 4;
    private static final int DESC_EPILOGUE = 7;
    private static final int DESC_BIAS_POINTER = 8;
    private static final int EPILOGUE_BIAS = 4;
    private static final int PREFERENCE_MAX_WORKSPACE_BYTES = 1;
    private static final int CUBLAS_STATUS_NOT_SUPPORTED = 15;
    /** cublasLtMatmulHeuristicResult_t: algo (64 B) @0, workspaceSize @64, state @72, wavesCount @76, reserved @80. */
    private static final long HEURISTIC_RESULT_BYTES = 96;
    private static final long ALGO_BYTES = 64;

    private static final Linker LINKER = Linker.nativeLinker();

    private static FunctionDescriptor fd(MemoryLayout... args) { return FunctionDescriptor.of(JAVA_INT, args); }

    /** The calls we use, bound by their exact names: cuBLASLt has no _v2 symbols (HARDWARE.md §5.3). */
    private record Api(MethodHandle create, MethodHandle destroy, MethodHandle descCreate, MethodHandle descDestroy,
                       MethodHandle descSetAttribute, MethodHandle layoutCreate, MethodHandle layoutDestroy,
                       MethodHandle preferenceCreate, MethodHandle preferenceDestroy,
                       MethodHandle preferenceSetAttribute, MethodHandle heuristic, MethodHandle matmul) {
        static Api bind(SymbolLookup lib, String where) {
            return new Api(
                    bind(lib, where, "cublasLtCreate", fd(ADDRESS)),
                    bind(lib, where, "cublasLtDestroy", fd(ADDRESS)),
                    bind(lib, where, "cublasLtMatmulDescCreate", fd(ADDRESS, JAVA_INT, JAVA_INT)),
                    bind(lib, where, "cublasLtMatmulDescDestroy", fd(ADDRESS)),
                    bind(lib, where, "cublasLtMatmulDescSetAttribute", fd(ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG)),
                    bind(lib, where, "cublasLtMatrixLayoutCreate", fd(ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG)),
                    bind(lib, where, "cublasLtMatrixLayoutDestroy", fd(ADDRESS)),
                    bind(lib, where, "cublasLtMatmulPreferenceCreate", fd(ADDRESS)),
                    bind(lib, where, "cublasLtMatmulPreferenceDestroy", fd(ADDRESS)),
                    bind(lib, where, "cublasLtMatmulPreferenceSetAttribute", fd(ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG)),
                    bind(lib, where, "cublasLtMatmulAlgoGetHeuristic", fd(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                            ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS)),
                    bind(lib, where, "cublasLtMatmul", fd(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS)));
        }

        private static MethodHandle bind(SymbolLookup lib, String where, String name, FunctionDescriptor fd) {
            MemorySegment symbol = lib.find(name).orElseThrow(() -> new IllegalStateException(
                    where + " is not a usable cuBLASLt: it has no " + name));
            return LINKER.downcallHandle(symbol, fd);
        }
    }

    /** One shape's descriptors and algorithm, made on first use. */
    private record Plan(MemorySegment desc, MemorySegment a, MemorySegment b, MemorySegment d, MemorySegment algo) { }

    private record Shape(int rows, int cols, int n, DType dtype, boolean bias) { }

    private final Cuda cuda;
    private final Path library;
    private final Api api;
    private final MemorySegment handle;
    private final MemorySegment preference;
    private final Cuda.DeviceBuffer workspace;
    /** Plans and the constants the calls point at (alpha, beta, algos); freed in close(). */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alpha;
    private final MemorySegment beta;
    private final Map<Shape, Plan> plans = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private CublasLt(Cuda cuda, Path library, Api api, MemorySegment handle, MemorySegment preference,
                     Cuda.DeviceBuffer workspace) {
        this.cuda = cuda;
        this.library = library;
        this.api = api;
        this.handle = handle;
        this.preference = preference;
        this.workspace = workspace;
        this.alpha = arena.allocateFrom(JAVA_FLOAT, 1f);
        this.beta = arena.allocateFrom(JAVA_FLOAT, 0f);
    }

    /** Where {@link #open} looks, in order: {path, where it came from}. */
    static List<String[]> candidates(Path library) {
        List<String[]> candidates = new ArrayList<>();
        String property = System.getProperty(LIBRARY_PROPERTY);
        String env = System.getenv(LIBRARY_ENV);
        if (library != null) {
            candidates.add(new String[] {library.toString(), "given to CublasLt.open"});
        } else if (property != null && !property.isBlank()) {
            candidates.add(new String[] {property, "system property " + LIBRARY_PROPERTY});
        } else if (env != null && !env.isBlank()) {
            candidates.add(new String[] {env, "environment variable " + LIBRARY_ENV});
        } else {
            for (String name : LOADER_NAMES) candidates.add(new String[] {name, "loader path"});
        }
        return candidates;
    }

    /** Why {@link #open} found nothing: every place tried. */
    static String notFound(Path library) {
        StringBuilder tried = new StringBuilder();
        for (String[] c : candidates(library)) {
            if (!tried.isEmpty()) tried.append(", ");
            tried.append(c[0]).append(" (").append(c[1]).append(')');
        }
        return "cuBLASLt not found; tried " + tried + " (set " + LIBRARY_PROPERTY + " or " + LIBRARY_ENV
                + "); basalt_matmul does every GEMM";
    }

    /**
     * Loads cuBLASLt ({@code library}, else {@code -Dbasalt.cublaslt.library}, else {@code BASALT_CUBLASLT_LIBRARY},
     * else libcublasLt.so.13, then .12 on the loader path), creates its handle and allocates the workspace on the
     * device current on this thread. Empty when no library loads ({@link #notFound} says where it looked); a library
     * that loads but lacks a call we use, or fails to start, throws.
     */
    static Optional<CublasLt> open(Cuda cuda, Path library) {
        for (String[] candidate : candidates(library)) {
            SymbolLookup lookup;
            try {
                Path path = Path.of(candidate[0]);
                // A bare file name goes through the loader path; the global arena keeps it loaded like libcuda.
                lookup = path.getParent() == null ? SymbolLookup.libraryLookup(candidate[0], Arena.global())
                        : SymbolLookup.libraryLookup(path.toAbsolutePath(), Arena.global());
            } catch (IllegalArgumentException e) {
                continue;
            }
            return Optional.of(start(cuda, Path.of(candidate[0]), Api.bind(lookup, candidate[0])));
        }
        return Optional.empty();
    }

    private static CublasLt start(Cuda cuda, Path library, Api api) {
        MemorySegment handle;
        MemorySegment preference;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            check("cublasLtCreate", (int) api.create().invokeExact(out));
            handle = out.get(ADDRESS, 0);
            out.set(ADDRESS, 0, MemorySegment.NULL);
            check("cublasLtMatmulPreferenceCreate", (int) api.preferenceCreate().invokeExact(out));
            preference = out.get(ADDRESS, 0);
            MemorySegment bytes = arena.allocateFrom(JAVA_LONG, WORKSPACE_BYTES);
            check("cublasLtMatmulPreferenceSetAttribute", (int) api.preferenceSetAttribute().invokeExact(preference,
                    PREFERENCE_MAX_WORKSPACE_BYTES, bytes, JAVA_LONG.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return new CublasLt(cuda, library, api, handle, preference, cuda.alloc(WORKSPACE_BYTES));
    }

    Path library() { return library; }

    /**
     * y[n][rows] (fp32) = x[n][cols] · Wᵀ (+ bias[rows], fp32, null for none) with W row-major [rows][cols]; W and x
     * both of {@code dtype}; fp32 accumulation. Enqueued on {@code stream} (null: the legacy default stream).
     */
    void matmul(Cuda.DeviceBuffer y, Cuda.DeviceBuffer w, Cuda.DeviceBuffer x, Cuda.DeviceBuffer bias, DType dtype,
                int rows, int cols, int n, Cuda.Stream stream) {
        if (closed.get()) throw new IllegalStateException("cuBLASLt (" + library + ") is closed");
        if (rows <= 0 || cols <= 0 || n <= 0) {
            throw new IllegalArgumentException("matmul of rows=" + rows + " cols=" + cols + " n=" + n);
        }
        requireSize(w, (long) rows * cols * dtype.bytes, "W");
        requireSize(x, (long) n * cols * dtype.bytes, "x");
        requireSize(y, (long) n * rows * 4, "y");
        if (bias != null) requireSize(bias, (long) rows * 4, "bias");
        MemorySegment yp = pointer(y, "y");
        MemorySegment wp = pointer(w, "W");
        MemorySegment xp = pointer(x, "x");
        MemorySegment bp = bias == null ? null : pointer(bias, "bias");
        MemorySegment ws = MemorySegment.ofAddress(cuda.deviceAddress(workspace));
        MemorySegment s = cuda.streamHandle(stream);
        Plan plan = plans.computeIfAbsent(new Shape(rows, cols, n, dtype, bias != null), this::plan);
        try (Arena call = Arena.ofConfined()) {
            if (bp != null) {
                // The bias pointer changes per call while the shape's descriptor is shared: set it every time.
                MemorySegment value = call.allocateFrom(ADDRESS, bp);
                check("cublasLtMatmulDescSetAttribute", (int) api.descSetAttribute().invokeExact(plan.desc(),
                        DESC_BIAS_POINTER, value, ADDRESS.byteSize()));
            }
            check("cublasLtMatmul", (int) api.matmul().invokeExact(handle, plan.desc(), alpha, wp, plan.a(), xp,
                    plan.b(), beta, yp, plan.d(), yp, plan.d(), plan.algo(), ws, WORKSPACE_BYTES, s));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void requireSize(Cuda.DeviceBuffer buffer, long bytes, String what) {
        if (buffer.size() < bytes) {
            throw new IndexOutOfBoundsException(what + " needs " + bytes + " bytes, the buffer has " + buffer.size());
        }
    }

    /** cuBLASLt needs 16-byte aligned operands (it aborts, not fails, otherwise): a misaligned slice is refused here. */
    private MemorySegment pointer(Cuda.DeviceBuffer buffer, String what) {
        long address = cuda.deviceAddress(buffer);
        if ((address & 15) != 0) throw new IllegalArgumentException(what + " is not 16-byte aligned");
        return MemorySegment.ofAddress(address);
    }

    private Plan plan(Shape shape) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ADDRESS);
            check("cublasLtMatmulDescCreate", (int) api.descCreate().invokeExact(out, CUBLAS_COMPUTE_32F, CUDA_R_32F));
            MemorySegment desc = out.get(ADDRESS, 0);
            setInt(call, desc, DESC_TRANSA, CUBLAS_OP_T);
            setInt(call, desc, DESC_TRANSB, CUBLAS_OP_N);
            if (shape.bias()) setInt(call, desc, DESC_EPILOGUE, EPILOGUE_BIAS);
            int type = shape.dtype().cudaType;
            MemorySegment a = layout(call, type, shape.cols(), shape.rows(), shape.cols());
            MemorySegment b = layout(call, type, shape.cols(), shape.n(), shape.cols());
            MemorySegment d = layout(call, CUDA_R_32F, shape.rows(), shape.n(), shape.rows());
            MemorySegment results = call.allocate(HEURISTIC_RESULT_BYTES, 16);
            MemorySegment count = call.allocate(JAVA_INT);
            check("cublasLtMatmulAlgoGetHeuristic", (int) api.heuristic().invokeExact(handle, desc, a, b, d, d,
                    preference, 1, results, count));
            if (count.get(JAVA_INT, 0) < 1) {
                throw new CudaException("cublasLtMatmulAlgoGetHeuristic", CUBLAS_STATUS_NOT_SUPPORTED,
                        statusName(CUBLAS_STATUS_NOT_SUPPORTED));
            }
            MemorySegment algo = arena.allocate(ALGO_BYTES, 16).copyFrom(results.asSlice(0, ALGO_BYTES));
            return new Plan(desc, a, b, d, algo);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void setInt(Arena call, MemorySegment desc, int attribute, int value) throws Throwable {
        check("cublasLtMatmulDescSetAttribute", (int) api.descSetAttribute().invokeExact(desc, attribute,
                call.allocateFrom(JAVA_INT, value), JAVA_INT.byteSize()));
    }

    private MemorySegment layout(Arena call, int type, long rows, long cols, long ld) throws Throwable {
        MemorySegment out = call.allocate(ADDRESS);
        check("cublasLtMatrixLayoutCreate", (int) api.layoutCreate().invokeExact(out, type, rows, cols, ld));
        return out.get(ADDRESS, 0);
    }

    private static void check(String call, int status) {
        if (status != 0) throw new CudaException(call, status, statusName(status));
    }

    /** cublasStatus_t names (HARDWARE.md §5.3). */
    static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "unknown cublasStatus_t";
        };
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** Destroys the plans, the preference and the handle, and frees the workspace; before {@link Cuda#close}. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            for (Plan plan : plans.values()) {
                check("cublasLtMatrixLayoutDestroy", (int) api.layoutDestroy().invokeExact(plan.a()));
                check("cublasLtMatrixLayoutDestroy", (int) api.layoutDestroy().invokeExact(plan.b()));
                check("cublasLtMatrixLayoutDestroy", (int) api.layoutDestroy().invokeExact(plan.d()));
                check("cublasLtMatmulDescDestroy", (int) api.descDestroy().invokeExact(plan.desc()));
            }
            plans.clear();
            check("cublasLtMatmulPreferenceDestroy", (int) api.preferenceDestroy().invokeExact(preference));
            check("cublasLtDestroy", (int) api.destroy().invokeExact(handle));
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            arena.close();
            cuda.free(workspace);
        }
    }
}
