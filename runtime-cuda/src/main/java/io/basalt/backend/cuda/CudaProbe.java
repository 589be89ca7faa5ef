package io.basalt.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The device measurements of {@code basalt cuda check} (io.basalt.backend.cuda.check), so that the check needs no access
 * to the package-private driver boundary ({@link Cuda}): the environment, the read-bandwidth and GEMM ceilings, launch
 * costs eager vs graph, and one kernel launched on host arrays (for the kernel-vs-CPU-reference step). Every call runs
 * on the thread that opened the probe (the context is per OS thread).
 */
public final class CudaProbe implements AutoCloseable {
    /** The fatbin packed in this jar by the kernels build (absent when nvcc was not found then). */
    static final String FATBIN = "/kernels/cuda/basalt.fatbin";

    /** What the check prints as step 0. {@code fatbin} false: this build has no GPU code. */
    public record Environment(String library, int driverVersion, int devices, String deviceName, int ccMajor, int ccMinor,
                              int multiprocessors, long totalMemory, boolean fatbin) {
        /** The stand-in names its one device so (docs/CUDA.md §4): its timings measure host C code, not silicon. */
        public boolean standin() { return deviceName.contains("stand-in"); }
    }

    /** A cuBLASLt bf16 GEMM rate: FLOP/s of y[n][m] = x[n][k]·Wᵀ, and the library that ran it. */
    public record GemmRate(double flopsPerSecond, String library, int m, int n, int k) { }

    /** Median microseconds per eager launch and per node of a replayed graph. */
    public record LaunchCost(double eagerMicros, double graphNodeMicros, int launches, int nodes) { }

    private static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;

    private final Cuda cuda;
    private final Cuda.Module module;
    private final Cuda.Stream stream;

    private CudaProbe(Cuda cuda, Cuda.Module module, Cuda.Stream stream) {
        this.cuda = cuda;
        this.module = module;
        this.stream = stream;
    }

    /** Opens libcuda by the backend's lookup order (docs/CUDA.md §3), device 0 current on this thread, our kernels loaded. */
    public static CudaProbe open() {
        Cuda cuda = Cuda.open(null);
        try {
            cuda.makeCurrent(0);
            byte[] image = fatbin();
            Cuda.Module module = null;
            if (image != null) {
                // cuModuleLoadData reads from host memory; the arena lives only for the call (the driver copies the image).
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment seg = arena.allocate(image.length + 1L);
                    MemorySegment.copy(image, 0, seg, ValueLayout.JAVA_BYTE, 0, image.length);
                    module = cuda.loadModule(seg);
                }
            }
            return new CudaProbe(cuda, module, cuda.newStream());
        } catch (RuntimeException e) {
            cuda.close();
            throw e;
        }
    }

    private static byte[] fatbin() {
        try (InputStream in = CudaProbe.class.getResourceAsStream(FATBIN)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    public Environment environment() {
        int[] cc = cuda.computeCapability(0);
        Path lib = cuda.library();
        return new Environment(lib == null ? "libcuda.so.1" : lib.toString(), cuda.driverVersion(), cuda.deviceCount(), cuda.deviceName(0),
                cc[0], cc[1], cuda.attribute(0, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), cuda.totalMemory(0), module != null);
    }

    /** {free, total} bytes of device 0. */
    public long[] memInfo() { return cuda.memInfo(); }

    private Cuda.Function kernel(String name) {
        if (module == null) throw new IllegalStateException("this build has no GPU code (nvcc was not found when it was built)");
        return cuda.function(module, name);
    }

    /**
     * Device read bandwidth in bytes/s: basalt_read_probe over {@code bytes} of non-zero data (timing on zeros flatters
     * some paths), the median of {@code repeats} timed runs after one warm-up, CUDA events around each.
     */
    public double readBandwidth(long bytes, int repeats) {
        Cuda.Function probe = kernel("basalt_read_probe");
        Cuda.DeviceBuffer x = cuda.alloc(bytes);
        Cuda.DeviceBuffer out = cuda.alloc(1024 * 16L);
        try {
            fillRandom(x, 7);
            Runnable once = () -> cuda.launch(probe, Cuda.Dim.of(1024), Cuda.Dim.of(256), 0, stream, out, x, bytes);
            return bytes / (medianMillis(once, repeats) / 1e3);
        } finally {
            cuda.free(out);
            cuda.free(x);
        }
    }

    /**
     * GEMM rate in FLOP/s of our basalt_matmul with bf16 weights ({@code m} rows of W by {@code k}, {@code n} activation
     * rows): what every GEMM runs on when cuBLASLt is absent. 2·m·n·k per run, median of {@code repeats}.
     */
    public double matmulRate(int m, int n, int k, int repeats) {
        Cuda.Function matmul = kernel("basalt_matmul");
        Cuda.DeviceBuffer w = cuda.alloc((long) m * k * 2);
        Cuda.DeviceBuffer x = cuda.alloc((long) n * k * 4);
        Cuda.DeviceBuffer y = cuda.alloc((long) n * m * 4);
        try {
            fillBf16(w, 11);
            fillBf16AsFloat(x, 13);
            Runnable once = () -> cuda.launch(matmul, Cuda.Dim.of(ceil(m, 4), ceil(n, 8)), Cuda.Dim.of(128), 0, stream,
                    y, w, 1, x, null, m, k, n);
            return 2.0 * m * n * k / (medianMillis(once, repeats) / 1e3);
        } finally {
            cuda.free(y);
            cuda.free(x);
            cuda.free(w);
        }
    }

    /**
     * The bf16 GEMM ceiling through cuBLASLt (the backend's prefill path): W [m][k] and x [n][k] bf16 of random values
     * in [-1, 1) (never zeros: a GEMM on zeros runs faster), fp32 out, 2·m·n·k per run, the median of {@code repeats}
     * event-timed runs after a warm-up (which also pays the heuristic). Empty when no cuBLASLt loads (by the backend's
     * lookup order, docs/CUDA.md §3); a cuBLASLt that loads but fails throws.
     */
    public Optional<GemmRate> cublasGemmRate(int m, int n, int k, int repeats) {
        Optional<CublasLt> opened = CublasLt.open(cuda, null);
        if (opened.isEmpty()) return Optional.empty();
        try (CublasLt blas = opened.get()) {
            Cuda.DeviceBuffer w = cuda.alloc((long) m * k * 2);
            Cuda.DeviceBuffer x = cuda.alloc((long) n * k * 2);
            Cuda.DeviceBuffer y = cuda.alloc((long) n * m * 4);
            try {
                fillBf16(w, 17);
                fillBf16(x, 19);
                Runnable once = () -> blas.matmul(y, w, x, null, CublasLt.DType.BF16, m, k, n, stream);
                double rate = 2.0 * m * n * k / (medianMillis(once, Math.max(5, repeats)) / 1e3);
                return Optional.of(new GemmRate(rate, String.valueOf(blas.library()), m, n, k));
            } finally {
                cuda.free(y);
                cuda.free(x);
                cuda.free(w);
            }
        }
    }

    /**
     * Launch cost of a one-block kernel (basalt_add over 256 floats): {@code launches} eager launches vs one graph of
     * {@code nodes} of them captured once and replayed; each the median of 5 timed rounds.
     */
    public LaunchCost launchCost(int launches, int nodes) {
        Cuda.Function add = kernel("basalt_add");
        Cuda.DeviceBuffer a = cuda.alloc(1024);
        Cuda.DeviceBuffer b = cuda.alloc(1024);
        try {
            cuda.memsetZero(a, null);
            cuda.memsetZero(b, null);
            Runnable one = () -> cuda.launch(add, Cuda.Dim.of(1), Cuda.Dim.of(256), 0, stream, a, b, 256L);
            double eager = medianMillis(() -> { for (int i = 0; i < launches; i++) one.run(); }, 5) * 1e3 / launches;
            cuda.beginCapture(stream);
            for (int i = 0; i < nodes; i++) one.run();
            Cuda.Graph graph = cuda.endCapture(stream);
            Cuda.GraphExec exec = cuda.instantiate(graph);
            try {
                double graphed = medianMillis(() -> cuda.launch(exec, stream), 5) * 1e3 / nodes;
                return new LaunchCost(eager, graphed, launches, nodes);
            } finally {
                cuda.destroy(exec);
                cuda.destroy(graph);
            }
        } finally {
            cuda.free(b);
            cuda.free(a);
        }
    }

    /**
     * Launches {@code kernel} once on host data: each array argument (float[], int[], short[] as bf16 bits, byte[]) is
     * uploaded to its own device buffer, scalars (Integer, Long, Float) and null (an "opt" pointer) pass as they are, and
     * after the launch every array is overwritten with its buffer's contents (so outputs poisoned by the caller show
     * what the kernel wrote). Grid and block are the ABI's for the given sizes (kernels/cuda/kernels.abi).
     */
    public void launchOnHost(String kernel, int[] grid, int[] block, Object... args) {
        Cuda.Function f = kernel(kernel);
        List<Cuda.DeviceBuffer> buffers = new ArrayList<>();
        Object[] launchArgs = new Object[args.length];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] host = new MemorySegment[args.length];
            for (int i = 0; i < args.length; i++) {
                MemorySegment seg = switch (args[i]) {
                    case float[] a -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
                    case int[] a -> arena.allocateFrom(ValueLayout.JAVA_INT, a);
                    case short[] a -> arena.allocateFrom(ValueLayout.JAVA_SHORT, a);
                    case byte[] a -> arena.allocateFrom(ValueLayout.JAVA_BYTE, a);
                    case null -> null;
                    default -> null;
                };
                if (seg == null) {
                    if (args[i] != null && !(args[i] instanceof Integer || args[i] instanceof Long || args[i] instanceof Float)) {
                        throw new IllegalArgumentException("argument " + i + " of " + kernel + ": unsupported " + args[i].getClass().getSimpleName());
                    }
                    launchArgs[i] = args[i];
                    continue;
                }
                // An empty array still needs a valid address: allocate at least one 16-byte slot.
                Cuda.DeviceBuffer d = cuda.alloc(Math.max(16, seg.byteSize()));
                buffers.add(d);
                if (seg.byteSize() > 0) cuda.copyToDevice(d.slice(0, seg.byteSize()), seg, null);
                host[i] = seg;
                launchArgs[i] = d;
            }
            cuda.launch(f, dim(grid), dim(block), 0, stream, launchArgs);
            cuda.synchronize(stream);
            for (int i = 0; i < args.length; i++) {
                if (host[i] == null || host[i].byteSize() == 0) continue;
                cuda.copyToHost(host[i], ((Cuda.DeviceBuffer) launchArgs[i]).slice(0, host[i].byteSize()), null);
                switch (args[i]) {
                    case float[] a -> MemorySegment.copy(host[i], ValueLayout.JAVA_FLOAT, 0, a, 0, a.length);
                    case int[] a -> MemorySegment.copy(host[i], ValueLayout.JAVA_INT, 0, a, 0, a.length);
                    case short[] a -> MemorySegment.copy(host[i], ValueLayout.JAVA_SHORT, 0, a, 0, a.length);
                    case byte[] a -> MemorySegment.copy(host[i], ValueLayout.JAVA_BYTE, 0, a, 0, a.length);
                    default -> { }
                }
            }
        } finally {
            for (Cuda.DeviceBuffer d : buffers) cuda.free(d);
        }
    }

    private static Cuda.Dim dim(int[] d) {
        if (d.length < 1 || d.length > 3) throw new IllegalArgumentException("a grid or block has 1 to 3 dimensions: " + Arrays.toString(d));
        return new Cuda.Dim(d[0], d.length > 1 ? d[1] : 1, d.length > 2 ? d[2] : 1);
    }

    /** Median of {@code repeats} event-timed runs after one untimed warm-up. */
    private double medianMillis(Runnable work, int repeats) {
        work.run();
        cuda.synchronize(stream);
        Cuda.Event start = cuda.newEvent();
        Cuda.Event end = cuda.newEvent();
        try {
            double[] ms = new double[Math.max(1, repeats)];
            for (int i = 0; i < ms.length; i++) {
                cuda.record(start, stream);
                work.run();
                cuda.record(end, stream);
                cuda.synchronize(stream);
                ms[i] = Math.max(cuda.elapsedMillis(start, end), 1e-6);
            }
            Arrays.sort(ms);
            return ms[ms.length / 2];
        } finally {
            cuda.destroy(end);
            cuda.destroy(start);
        }
    }

    /** Fills a buffer with random bytes through one reused pinned chunk of at most 64 MiB. */
    private void fillRandom(Cuda.DeviceBuffer d, long seed) {
        fill(d, seed, (r, seg) -> {
            for (long o = 0; o + 8 <= seg.byteSize(); o += 8) seg.set(ValueLayout.JAVA_LONG_UNALIGNED, o, r.nextLong());
        });
    }

    /** bf16 bits of values in [-1, 1) (random bytes could be NaN or huge in a GEMM). */
    private void fillBf16(Cuda.DeviceBuffer d, long seed) {
        fill(d, seed, (r, seg) -> {
            for (long o = 0; o + 2 <= seg.byteSize(); o += 2) {
                seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, o, (short) (Float.floatToRawIntBits((float) (r.nextDouble() * 2 - 1)) >>> 16));
            }
        });
    }

    private void fillBf16AsFloat(Cuda.DeviceBuffer d, long seed) {
        fill(d, seed, (r, seg) -> {
            for (long o = 0; o + 4 <= seg.byteSize(); o += 4) seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED, o, (float) (r.nextDouble() * 2 - 1));
        });
    }

    private interface Filler { void fill(SplittableRandom random, MemorySegment chunk); }

    private void fill(Cuda.DeviceBuffer d, long seed, Filler filler) {
        long chunk = Math.min(d.size(), 64L << 20);
        Cuda.HostBuffer h = cuda.allocPinned(chunk);
        try {
            filler.fill(new SplittableRandom(seed), h.segment().asSlice(0, chunk));
            // One random chunk repeated: the probes only need data that is not zero and not cached.
            for (long off = 0; off < d.size(); off += chunk) {
                long n = Math.min(chunk, d.size() - off);
                cuda.copyToDevice(d.slice(off, n), h.segment().asSlice(0, n), null);
            }
        } finally {
            cuda.free(h);
        }
    }

    private static int ceil(int a, int b) { return (a + b - 1) / b; }

    @Override
    public void close() {
        try {
            cuda.destroy(stream);
            if (module != null) cuda.unload(module);
        } finally {
            cuda.close();
        }
    }
}
