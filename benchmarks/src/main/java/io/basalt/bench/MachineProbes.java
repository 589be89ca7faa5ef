package io.basalt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's limits, measured in this JVM so the benchmark's figures can be stated as fractions
 * of them: a STREAM-style read bandwidth (a vector sum over off-heap memory four times the L3), a
 * STREAM triad, and the fp32 FMA peak (independent FMA chains held in registers). Every probe runs
 * on all cores, one contiguous share per thread, after a warm-up that lets C2 compile the kernel;
 * the best of several repetitions is kept (the machine is shared: the best run is the one least
 * disturbed). The sum and the FMA chains run with 256-bit vectors (what the kernels use) and, where
 * the preferred species is wider (AVX-512), with that too: the limit is the better of the two.
 */
public final class MachineProbes {
    private MachineProbes() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> W = FloatVector.SPECIES_512;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final int FMA_CHAINS = 12;

    /**
     * GB/s are 1e9 bytes per second. The wide fields are 0 where the preferred species is 256 bits or less.
     *
     * @param readGBs   the read bandwidth the benchmark divides by: the better of read256GBs and readWideGBs
     * @param triadGBs  a = b + s·c counting 3 arrays (STREAM's convention; write-allocate not counted)
     * @param fmaGflops the FMA peak the benchmark divides by: the better of fma256Gflops and fmaWideGflops
     */
    public record Result(int threads, int preferredBits, long readBytes, double readGBs, double read256GBs, double readWideGBs,
                         long triadArrayBytes, double triadGBs, double fmaGflops, double fma256Gflops, double fmaWideGflops,
                         int fmaChains) {
        /** The better figure of two probe runs (the benchmark probes before and after the models). */
        public Result best(Result o) {
            return new Result(threads, preferredBits, readBytes, Math.max(readGBs, o.readGBs), Math.max(read256GBs, o.read256GBs),
                    Math.max(readWideGBs, o.readWideGBs), triadArrayBytes, Math.max(triadGBs, o.triadGBs),
                    Math.max(fmaGflops, o.fmaGflops), Math.max(fma256Gflops, o.fma256Gflops),
                    Math.max(fmaWideGflops, o.fmaWideGflops), fmaChains);
        }
    }

    /** Sizes and repetitions: buffers well beyond the last-level cache ({@link #l3Bytes()}). */
    public record Config(long readBytes, long triadArrayBytes, long fmaIterations, int reps) {
        public static Config full() {
            long l3 = l3Bytes();
            return new Config(Math.max(1L << 30, roundUp(4 * l3)), Math.max(128L << 20, roundUp(l3)), 1L << 24, 7);
        }

        public static Config quick() {
            Config full = full();
            return new Config(full.readBytes(), full.triadArrayBytes(), 1L << 23, 4);
        }

        private static long roundUp(long bytes) { return (bytes + (1 << 20) - 1) >> 20 << 20; }
    }

    /** The L3 (last-level) cache size from sysfs, or 32 MiB where it is not known. */
    static long l3Bytes() {
        try {
            String s = java.nio.file.Files.readString(java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache/index3/size")).trim();
            long unit = s.endsWith("K") ? 1L << 10 : s.endsWith("M") ? 1L << 20 : 1;
            return Long.parseLong(s.replaceAll("[^0-9]", "")) * unit;
        } catch (Exception e) {
            return 32L << 20;
        }
    }

    public static Result run(Config config) {
        int threads = Runtime.getRuntime().availableProcessors();
        boolean wide = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads);
             Arena arena = Arena.ofShared()) {
            MemorySegment read = arena.allocate(config.readBytes(), 4096);
            fill(pool, threads, read, 1e-3f);
            double read256 = config.readBytes() / best(pool, threads, config.reps(), (t, n) -> {
                long[] r = share(read.byteSize(), t, n);
                return sum(read, r[0], r[1]);
            }, warm -> sum(read, 0, 1 << 16)) / 1e9;
            double readWide = !wide ? 0 : config.readBytes() / best(pool, threads, config.reps(), (t, n) -> {
                long[] r = share(read.byteSize(), t, n);
                return sumWide(read, r[0], r[1]);
            }, warm -> sumWide(read, 0, 1 << 16)) / 1e9;

            MemorySegment a = arena.allocate(config.triadArrayBytes(), 4096);
            MemorySegment b = arena.allocate(config.triadArrayBytes(), 4096);
            MemorySegment c = arena.allocate(config.triadArrayBytes(), 4096);
            fill(pool, threads, a, 0f);
            fill(pool, threads, b, 1f);
            fill(pool, threads, c, 2f);
            double triadGBs = 3.0 * config.triadArrayBytes() / best(pool, threads, config.reps(), (t, n) -> {
                long[] r = share(a.byteSize(), t, n);
                triad(a, b, c, 0.5f, r[0], r[1]);
                return 0f;
            }, warm -> {
                triad(a, b, c, 0.5f, 0, 1 << 16);
                return 0f;
            }) / 1e9;

            long iters = config.fmaIterations();
            double fma256 = (double) iters * FMA_CHAINS * S.length() * 2 * threads / best(pool, threads, config.reps(),
                    (t, n) -> fma(iters, t), warm -> fma(20_000, warm)) / 1e9;
            double fmaWide = !wide ? 0 : (double) iters * FMA_CHAINS * W.length() * 2 * threads / best(pool, threads, config.reps(),
                    (t, n) -> fmaWide(iters, t), warm -> fmaWide(20_000, warm)) / 1e9;
            return new Result(threads, FloatVector.SPECIES_PREFERRED.vectorBitSize(), config.readBytes(), Math.max(read256, readWide),
                    read256, readWide, config.triadArrayBytes(), triadGBs, Math.max(fma256, fmaWide), fma256, fmaWide, FMA_CHAINS);
        }
    }

    public static String describe(Result r) {
        String read = r.readWideGBs() > 0
                ? String.format(Locale.ROOT, "%.1f GB/s (256-bit %.1f, %d-bit %.1f)", r.readGBs(), r.read256GBs(), r.preferredBits(), r.readWideGBs())
                : String.format(Locale.ROOT, "%.1f GB/s", r.readGBs());
        String fma = r.fmaWideGflops() > 0
                ? String.format(Locale.ROOT, "%.1f GFLOP/s (256-bit %.1f, %d-bit %.1f)", r.fmaGflops(), r.fma256Gflops(), r.preferredBits(),
                        r.fmaWideGflops())
                : String.format(Locale.ROOT, "%.1f GFLOP/s", r.fmaGflops());
        return String.format(Locale.ROOT, "memory read %s over %d MiB; triad %.1f GB/s (3 × %d MiB); fp32 FMA peak %s, "
                        + "%d chains per thread; %d threads",
                read, r.readBytes() >> 20, r.triadGBs(), r.triadArrayBytes() >> 20, fma, r.fmaChains(), r.threads());
    }

    private interface Share { float run(int thread, int threads); }

    private interface Warm { float run(int i); }

    /**
     * Warms the kernel up on the calling thread (enough calls for C2 to compile it, not just an OSR
     * of its loop), then returns the fastest of {@code reps} all-thread runs, in seconds.
     */
    private static double best(ExecutorService pool, int threads, int reps, Share work, Warm warm) {
        float sink = 0;
        long until = System.nanoTime() + 400_000_000L;
        for (int i = 0; i < 20_000 && (i < 2_000 || System.nanoTime() < until); i++) sink += warm.run(i);
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < reps + 1; rep++) { // the first all-thread run is a warm-up too (thread start, TLBs)
            long t0 = System.nanoTime();
            sink += all(pool, threads, work);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (rep > 0) best = Math.min(best, seconds);
        }
        if (sink == 42.4242f) System.out.print(""); // keeps the results live
        return best;
    }

    private static float all(ExecutorService pool, int threads, Share work) {
        List<Callable<Float>> tasks = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            tasks.add(() -> work.run(thread, threads));
        }
        float sink = 0;
        try {
            for (Future<Float> f : pool.invokeAll(tasks)) sink += f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        return sink;
    }

    /** Thread t's contiguous byte range [from, to) of a region of {@code bytes}, in whole 4 KiB pages. */
    static long[] share(long bytes, int t, int n) {
        long pages = bytes / 4096;
        return new long[] {pages * t / n * 4096, pages * (t + 1) / n * 4096};
    }

    /** Writes every page (so none is mapped lazily inside a timed run), each thread its own share. */
    private static void fill(ExecutorService pool, int threads, MemorySegment seg, float value) {
        all(pool, threads, (t, n) -> {
            long[] r = share(seg.byteSize(), t, n);
            FloatVector v = FloatVector.broadcast(S, value);
            for (long i = r[0]; i < r[1]; i += S.vectorByteSize()) v.intoMemorySegment(seg, i, LE);
            return 0f;
        });
    }

    /** Sums floats in [from, to) bytes with four accumulators (from/to multiples of 128). */
    static float sum(MemorySegment seg, long from, long to) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int step = S.vectorByteSize();
        for (long i = from; i < to; i += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, seg, i, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(S, seg, i + step, LE));
            a2 = a2.add(FloatVector.fromMemorySegment(S, seg, i + 2L * step, LE));
            a3 = a3.add(FloatVector.fromMemorySegment(S, seg, i + 3L * step, LE));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** {@link #sum} with 512-bit vectors (from/to multiples of 256). */
    static float sumWide(MemorySegment seg, long from, long to) {
        FloatVector a0 = FloatVector.zero(W), a1 = a0, a2 = a0, a3 = a0;
        int step = W.vectorByteSize();
        for (long i = from; i < to; i += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(W, seg, i, LE));
            a1 = a1.add(FloatVector.fromMemorySegment(W, seg, i + step, LE));
            a2 = a2.add(FloatVector.fromMemorySegment(W, seg, i + 2L * step, LE));
            a3 = a3.add(FloatVector.fromMemorySegment(W, seg, i + 3L * step, LE));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** a = b + s·c over [from, to) bytes (multiples of 64). */
    static void triad(MemorySegment a, MemorySegment b, MemorySegment c, float s, long from, long to) {
        FloatVector sv = FloatVector.broadcast(S, s);
        int step = S.vectorByteSize();
        for (long i = from; i < to; i += 2L * step) {
            FloatVector.fromMemorySegment(S, c, i, LE).fma(sv, FloatVector.fromMemorySegment(S, b, i, LE)).intoMemorySegment(a, i, LE);
            FloatVector.fromMemorySegment(S, c, i + step, LE).fma(sv, FloatVector.fromMemorySegment(S, b, i + step, LE))
                    .intoMemorySegment(a, i + step, LE);
        }
    }

    /**
     * {@code iters} rounds of 12 independent FMA chains (12 accumulators and 2 constants fit AVX2's
     * 16 registers; 12 in flight cover the FMA latency × pipes of current cores). x·m + c with m just
     * below one converges, so nothing overflows or goes subnormal.
     */
    static float fma(long iters, int seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector c = FloatVector.broadcast(S, 1e-6f);
        float s = seed * 1e-3f;
        FloatVector a0 = FloatVector.broadcast(S, s), a1 = FloatVector.broadcast(S, s + 1), a2 = FloatVector.broadcast(S, s + 2),
                a3 = FloatVector.broadcast(S, s + 3), a4 = FloatVector.broadcast(S, s + 4), a5 = FloatVector.broadcast(S, s + 5),
                a6 = FloatVector.broadcast(S, s + 6), a7 = FloatVector.broadcast(S, s + 7), a8 = FloatVector.broadcast(S, s + 8),
                a9 = FloatVector.broadcast(S, s + 9), a10 = FloatVector.broadcast(S, s + 10), a11 = FloatVector.broadcast(S, s + 11);
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** {@link #fma} with 512-bit vectors: a copy, because a species must be a constant to be intrinsified (JAVA.md §1.4). */
    static float fmaWide(long iters, int seed) {
        FloatVector m = FloatVector.broadcast(W, 0.999999f);
        FloatVector c = FloatVector.broadcast(W, 1e-6f);
        float s = seed * 1e-3f;
        FloatVector a0 = FloatVector.broadcast(W, s), a1 = FloatVector.broadcast(W, s + 1), a2 = FloatVector.broadcast(W, s + 2),
                a3 = FloatVector.broadcast(W, s + 3), a4 = FloatVector.broadcast(W, s + 4), a5 = FloatVector.broadcast(W, s + 5),
                a6 = FloatVector.broadcast(W, s + 6), a7 = FloatVector.broadcast(W, s + 7), a8 = FloatVector.broadcast(W, s + 8),
                a9 = FloatVector.broadcast(W, s + 9), a10 = FloatVector.broadcast(W, s + 10), a11 = FloatVector.broadcast(W, s + 11);
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    public static void main(String[] args) {
        System.out.println(describe(run(args.length > 0 && args[0].equals("--quick") ? Config.quick() : Config.full())));
    }
}
