package io.basalt.backend.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A second load of the same checkpoint maps the packed weights; anything unexpected repacks. */
class PackedWeightCacheTest {
    @TempDir Path dir;

    private static MemorySegment random(int n, long seed) {
        MemorySegment s = Arena.ofAuto().allocate(4L * n, 64);
        Random rnd = new Random(seed);
        for (int i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rnd.nextGaussian());
        return s;
    }

    private static float[] apply(WeightMatrix m, long seed) {
        float[] x = new float[m.cols()];
        Random rnd = new Random(seed);
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] y = new float[m.rows()];
        m.matvec(x, y);
        return y;
    }

    /** What a model load does per row-major matrix: the cached one if present, else pack it and record it. */
    private static PackedMatrix rowMajor(PackedWeightCache cache, String name, MemorySegment data, DType dtype, int rows, int cols) {
        PackedMatrix hit = cache.lookup(name, dtype, rows, cols);
        return hit != null ? hit : cache.record(name, PackedMatrix.fromRowMajor(data, dtype, rows, cols));
    }

    private static PackedMatrix columnMajor(PackedWeightCache cache, String name, MemorySegment data, DType dtype, int in, int out) {
        PackedMatrix hit = cache.lookup(name, dtype, out, in);
        return hit != null ? hit : cache.record(name, PackedMatrix.fromColumnMajor(data, dtype, in, out));
    }

    @Test
    void secondLoadIsServedFromTheFileWithIdenticalResults() throws Exception {
        Path ckpt = Files.writeString(dir.resolve("model.bin"), "weights");
        MemorySegment a = random(37 * 40, 1), b = random(24 * 19, 2);

        PackedWeightCache first = PackedWeightCache.open(dir.resolve("cache"), List.of(ckpt), "fp32");
        assertNotNull(first);
        PackedMatrix a1 = rowMajor(first, "a", a, DType.F32, 37, 40);
        PackedMatrix b1 = columnMajor(first, "b", b, DType.F32, 24, 19);
        assertFalse(first.hit());
        first.commit();
        assertTrue(Files.isRegularFile(first.file()));
        // What the benchmark reads into the page cache before a load is the file a load maps.
        assertEquals(first.file(), PackedWeightCache.fileFor(dir.resolve("cache"), List.of(ckpt), "fp32"));

        PackedWeightCache second = PackedWeightCache.open(dir.resolve("cache"), List.of(ckpt), "fp32");
        PackedMatrix a2 = rowMajor(second, "a", MemorySegment.NULL, DType.F32, 37, 40); // no source needed on a hit
        PackedMatrix b2 = columnMajor(second, "b", MemorySegment.NULL, DType.F32, 24, 19);
        assertTrue(second.hit());
        assertArrayEquals(apply(a1, 3), apply(a2, 3));
        assertArrayEquals(apply(b1, 4), apply(b2, 4));

        // Other options are another entry.
        assertFalse(PackedWeightCache.open(dir.resolve("cache"), List.of(ckpt), "bf16").file().equals(second.file()));
    }

    @Test
    void aChangedRequestOrderOrADamagedFileRepacks() throws Exception {
        Path ckpt = Files.writeString(dir.resolve("model.bin"), "weights");
        MemorySegment a = random(16 * 8, 1), b = random(16 * 8, 2);
        PackedWeightCache first = PackedWeightCache.open(dir, List.of(ckpt), "x");
        rowMajor(first, "a", a, DType.F32, 16, 8);
        rowMajor(first, "b", b, DType.F32, 16, 8);
        first.commit();

        PackedWeightCache swapped = PackedWeightCache.open(dir, List.of(ckpt), "x");
        PackedMatrix gotB = rowMajor(swapped, "b", b, DType.F32, 16, 8); // the file starts with "a": a miss
        assertFalse(swapped.hit());
        assertArrayEquals(apply(PackedMatrix.fromRowMajor(b, DType.F32, 16, 8), 5), apply(gotB, 5));

        Files.write(first.file(), new byte[] {1, 2, 3});
        PackedWeightCache damaged = PackedWeightCache.open(dir, List.of(ckpt), "x");
        assertFalse(damaged.hit());
        assertArrayEquals(apply(PackedMatrix.fromRowMajor(a, DType.F32, 16, 8), 6),
                apply(rowMajor(damaged, "a", a, DType.F32, 16, 8), 6));
        rowMajor(damaged, "b", b, DType.F32, 16, 8);
        damaged.commit(); // rewritten whole
        PackedWeightCache healed = PackedWeightCache.open(dir, List.of(ckpt), "x");
        rowMajor(healed, "a", a, DType.F32, 16, 8);
        rowMajor(healed, "b", b, DType.F32, 16, 8);
        assertTrue(healed.hit());
    }

    @Test
    void quantizedBytesAreCachedBesidePackedMatrices() throws Exception {
        Path ckpt = Files.writeString(dir.resolve("model.bin"), "weights");
        MemorySegment f32 = random(8 * 64, 7);
        WeightConversion.Stored q8 = WeightConversion.convert(f32, DType.F32, 8, 64, DType.Q8_0, Arena.ofAuto());
        PackedWeightCache first = PackedWeightCache.open(dir, List.of(ckpt), "q8");
        assertNull(first.lookupBytes("w", DType.Q8_0, 8, 64, q8.data().byteSize()));
        first.recordBytes("w", DType.Q8_0, 8, 64, q8.data());
        rowMajor(first, "p", f32, DType.F32, 8, 64);
        assertTrue(first.commit());

        PackedWeightCache second = PackedWeightCache.open(dir, List.of(ckpt), "q8");
        MemorySegment mapped = second.lookupBytes("w", DType.Q8_0, 8, 64, q8.data().byteSize());
        assertNotNull(mapped);
        assertNotNull(second.lookup("p", DType.F32, 8, 64));
        assertTrue(second.hit());
        assertFalse(second.commit()); // nothing to write on a hit
        assertEquals(-1L, mapped.mismatch(q8.data()));
    }

    @Test
    void partialFilesOfExitedWritersAreRemovedOnOpen() throws Exception {
        Path model = Files.writeString(dir.resolve("m.bin"), "weights");
        Path cacheDir = Files.createDirectories(dir.resolve("cache"));
        Path file = PackedWeightCache.fileFor(cacheDir, List.of(model), "x");
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        Path abandoned = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp" + exited.pid() + "-7"), "partial");
        Path live = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp" + ProcessHandle.current().pid() + "-7"), "in progress");
        Path other = Files.writeString(file.resolveSibling(file.getFileName() + ".tmpnotes"), "not a writer's");
        assertNotNull(PackedWeightCache.open(cacheDir, List.of(model), "x"));
        assertFalse(Files.exists(abandoned), "the exited writer's partial file stays");
        assertTrue(Files.exists(live), "a running writer's file was removed");
        assertTrue(Files.exists(other));
    }

    @Test
    void noCacheDirectoryMeansNoCache() throws Exception {
        assertNull(PackedWeightCache.open(null, List.of(Files.writeString(dir.resolve("m"), "w")), "x"));
    }
}
