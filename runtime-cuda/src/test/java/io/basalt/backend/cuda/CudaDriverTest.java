package io.basalt.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Dim;
import io.basalt.backend.cuda.Cuda.Event;
import io.basalt.backend.cuda.Cuda.Function;
import io.basalt.backend.cuda.Cuda.Graph;
import io.basalt.backend.cuda.Cuda.GraphExec;
import io.basalt.backend.cuda.Cuda.HostBuffer;
import io.basalt.backend.cuda.Cuda.Module;
import io.basalt.backend.cuda.Cuda.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The driver boundary against the stand-in libcuda (docs/CUDA.md §4, §5): calls, handles, results and errors. */
class CudaDriverTest {
    private static Cuda cuda;
    private static Module module;
    private static Function add;

    /**
     * Opens the stand-in once for the class (skipping the test when it is not built) and makes its context current on
     * this thread; the library tests below run without it.
     */
    private static void standin() throws Exception {
        Path library = Standin.cuda();
        if (cuda == null) {
            cuda = Cuda.open(library);
            cuda.makeCurrent(0);
            try (Arena arena = Arena.ofConfined()) {
                module = cuda.loadModule(Standin.kernelImage(arena));
            }
            add = cuda.function(module, "basalt_add");
        }
        Standin.reset();
        cuda.makeCurrent(0); // idempotent: the primary context is retained once
    }

    @AfterAll
    static void close() {
        if (cuda == null) return;
        cuda.unload(module);
        cuda.close();
        cuda = null;
    }

    @Test
    void describesTheDevice() throws Exception {
        standin();
        assertEquals(Standin.cuda(), cuda.library());
        assertEquals(13000, cuda.driverVersion());
        assertEquals(1, cuda.deviceCount());
        assertEquals("Basalt stand-in", cuda.deviceName(0));
        assertEquals(80L << 30, cuda.totalMemory(0));
        assertArrayEquals(new int[] {9, 0}, cuda.computeCapability(0));
        assertTrue(cuda.attribute(0, Cuda.ATTRIBUTE_MULTIPROCESSOR_COUNT) > 0);
        long[] info = cuda.memInfo();
        assertEquals(80L << 30, info[1]);
        DeviceBuffer b = cuda.alloc(1 << 20);
        assertTrue(cuda.memInfo()[0] <= info[0] - (1 << 20), "an allocation shows in the free memory");
        cuda.free(b);
    }

    @Test
    void copiesRoundTripThroughSlices() throws Exception {
        standin();
        DeviceBuffer a = cuda.alloc(1024);
        DeviceBuffer b = cuda.alloc(1024);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(JAVA_FLOAT, 128);
            for (int i = 0; i < 128; i++) src.setAtIndex(JAVA_FLOAT, i, i + 0.5f);
            cuda.memsetZero(a, null);
            cuda.copyToDevice(a.slice(256, 512), src, null);
            cuda.memsetZero(b, null);
            cuda.copyDeviceToDevice(b.slice(512, 512), a.slice(256, 512), null);
            float[] back = new float[256];
            cuda.copyToHost(MemorySegment.ofArray(back), b, null); // a heap destination is staged
            for (int i = 0; i < 128; i++) assertEquals(0f, back[i], "untouched prefix " + i);
            for (int i = 0; i < 128; i++) assertEquals(i + 0.5f, back[128 + i], "copied value " + i);

            float[] part = new float[4];
            cuda.copyToHost(MemorySegment.ofArray(part), a.slice(256 + 40, 16), null);
            assertArrayEquals(new float[] {10.5f, 11.5f, 12.5f, 13.5f}, part);

            cuda.memsetZero(b.slice(512, 256), null);
            cuda.copyToHost(MemorySegment.ofArray(back), b, null);
            assertEquals(0f, back[128 + 63]);
            assertEquals(64.5f, back[128 + 64]);

            assertThrows(IndexOutOfBoundsException.class, () -> a.slice(1000, 100));
            assertThrows(IndexOutOfBoundsException.class, () -> cuda.copyToDevice(a.slice(0, 16), src, null));
        } finally {
            cuda.free(a);
            cuda.free(b);
        }
    }

    @Test
    void pinnedBuffersCopyOnAStream() throws Exception {
        standin();
        HostBuffer pinned = cuda.allocPinned(256);
        DeviceBuffer d = cuda.alloc(256);
        Stream s = cuda.newStream();
        try {
            MemorySegment seg = pinned.segment();
            assertEquals(256, seg.byteSize());
            for (int i = 0; i < 64; i++) seg.setAtIndex(JAVA_INT, i, i * 3);
            cuda.copyToDevice(d, seg, s);
            seg.fill((byte) 0);
            cuda.copyToHost(seg, d, s);
            cuda.synchronize(s);
            for (int i = 0; i < 64; i++) assertEquals(i * 3, seg.getAtIndex(JAVA_INT, i));
            assertThrows(IllegalArgumentException.class,
                    () -> cuda.copyToDevice(d, MemorySegment.ofArray(new int[4]), s), "async from the heap");
        } finally {
            cuda.destroy(s);
            cuda.free(d);
            cuda.free(pinned);
        }
        assertThrows(IllegalStateException.class, () -> pinned.segment().get(JAVA_INT, 0), "freed pinned memory");
        assertThrows(IllegalStateException.class, () -> cuda.free(pinned));
        assertThrows(IllegalStateException.class, () -> cuda.synchronize(s), "destroyed stream");
    }

    @Test
    void launchesAKernel() throws Exception {
        standin();
        int n = 1000;
        DeviceBuffer x = upload(n, i -> i);
        DeviceBuffer y = upload(n, i -> 2 * i + 1);
        try {
            cuda.launch(add, Dim.of((n + 255) / 256), Dim.of(256), 0, null, x, y, (long) n);
            float[] out = download(x, n);
            for (int i = 0; i < n; i++) assertEquals(3f * i + 1, out[i], "x[" + i + "]");
            assertEquals("basalt_add", add.name());
            assertTrue(Standin.log().contains("launch basalt_add grid=4,1,1"), Standin.log());

            // The stand-in checks the grid against the ABI's formula, as a wrong grid would be a silent bug on a GPU.
            CudaException e = assertThrows(CudaException.class,
                    () -> cuda.launch(add, Dim.of(1), Dim.of(256), 0, null, x, y, (long) n));
            assertEquals("cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE (1)", e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> cuda.launch(add, Dim.of(4), Dim.of(256), 0, null, x, y, (short) n), "not an ABI type");
        } finally {
            cuda.free(x);
            cuda.free(y);
        }
    }

    @Test
    void capturesAndReplaysAGraph() throws Exception {
        standin();
        int n = 300;
        DeviceBuffer x = upload(n, i -> i);
        DeviceBuffer y = upload(n, i -> 1);
        Stream s = cuda.newStream();
        try {
            cuda.beginCapture(s);
            // Each launch's argument block dies with the call: the driver keeps its own copy of the values.
            cuda.launch(add, Dim.of(2), Dim.of(256), 0, s, x, y, (long) n);
            cuda.launch(add, Dim.of(1), Dim.of(256), 0, s, x.slice(0, 400), y, 100L);
            Graph g = cuda.endCapture(s);
            assertEquals(5f, download(x, n)[5], "captured, not run");
            GraphExec exec = cuda.instantiate(g);
            cuda.launch(exec, s);
            cuda.launch(exec, s);
            cuda.synchronize(s);
            float[] out = download(x, n);
            for (int i = 0; i < n; i++) assertEquals(i + (i < 100 ? 4f : 2f), out[i], "x[" + i + "]");
            List<String> graphs = Standin.log().lines().filter(l -> l.startsWith("graph ")).toList();
            assertEquals(2, graphs.size(), Standin.log());
            assertTrue(graphs.get(0).endsWith("nodes=2"), graphs.get(0));
            cuda.destroy(exec);
            cuda.destroy(g);
            assertThrows(IllegalStateException.class, () -> cuda.launch(exec, s));
            assertThrows(IllegalStateException.class, () -> cuda.instantiate(g));
        } finally {
            cuda.destroy(s);
            cuda.free(x);
            cuda.free(y);
        }
    }

    @Test
    void timesWithEvents() throws Exception {
        standin();
        Event a = cuda.newEvent();
        Event b = cuda.newEvent();
        Stream s = cuda.newStream();
        DeviceBuffer x = upload(256, i -> i);
        try {
            cuda.record(a, s);
            cuda.launch(add, Dim.of(1), Dim.of(256), 0, s, x, x, 256L);
            cuda.record(b, s);
            cuda.synchronize(s);
            float ms = cuda.elapsedMillis(a, b);
            assertTrue(ms >= 0f && ms < 60_000f, "elapsed " + ms);
            assertEquals(510f, download(x, 256)[255]);
        } finally {
            cuda.free(x);
            cuda.destroy(s);
            cuda.destroy(a);
            cuda.destroy(b);
        }
        assertThrows(IllegalStateException.class, () -> cuda.record(a, null));
    }

    @Test
    void aThreadWithoutTheContextGetsInvalidContext() throws Exception {
        standin();
        CompletableFuture<Throwable> other = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                cuda.alloc(64);
                other.complete(null);
            } catch (Throwable e) {
                other.complete(e);
            }
        });
        t.join();
        CudaException e = assertThrows(CudaException.class, () -> {
            throw other.get();
        });
        assertEquals("cuMemAlloc failed: CUDA_ERROR_INVALID_CONTEXT (201)", e.getMessage());
        assertEquals("cuMemAlloc", e.call());
        assertEquals(201, e.result());
    }

    @Test
    void driverResultsBecomeNamedExceptions() throws Exception {
        standin();
        Standin.fail("cuMemAlloc", 2, 0);
        CudaException e = assertThrows(CudaException.class, () -> cuda.alloc(64));
        assertEquals("cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2)", e.getMessage());
        assertEquals(2, e.result());
        DeviceBuffer ok = cuda.alloc(64); // one failure only
        Standin.fail("cuMemcpyHtoD", 700, 0);
        e = assertThrows(CudaException.class, () -> cuda.copyToDevice(ok, MemorySegment.ofArray(new float[4]), null));
        assertEquals("cuMemcpyHtoD failed: CUDA_ERROR_ILLEGAL_ADDRESS (700)", e.getMessage());
        cuda.free(ok);

        e = assertThrows(CudaException.class, () -> cuda.function(module, "basalt_no_such_kernel"));
        assertEquals("cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND (500)", e.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            e = assertThrows(CudaException.class, () -> cuda.loadModule(arena.allocateFrom("not an image")));
            assertEquals(200, e.result());
        }
        assertEquals("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", Cuda.fallbackName(900));
    }

    @Test
    void releasedHandlesAreRefusedBeforeTheDriver() throws Exception {
        standin();
        DeviceBuffer b = cuda.alloc(256);
        DeviceBuffer slice = b.slice(64, 64);
        assertThrows(IllegalArgumentException.class, () -> cuda.free(slice), "a slice is not freed on its own");
        cuda.free(b);
        // Standin.fail would turn a native call into an error: none may happen for a refused handle.
        Standin.fail("cuMemsetD8", 999, 0);
        assertThrows(IllegalStateException.class, () -> cuda.memsetZero(b, null));
        assertThrows(IllegalStateException.class, () -> cuda.memsetZero(slice, null), "slices die with the buffer");
        assertThrows(IllegalStateException.class, () -> cuda.free(b), "double free");
        assertThrows(IllegalStateException.class,
                () -> cuda.launch(add, Dim.of(1), Dim.of(256), 0, null, b, b, 1L));
        Standin.reset();

        Module m;
        try (Arena arena = Arena.ofConfined()) {
            m = cuda.loadModule(Standin.kernelImage(arena));
        }
        Function f = cuda.function(m, "basalt_add");
        cuda.unload(m);
        DeviceBuffer x = cuda.alloc(1024);
        assertThrows(IllegalStateException.class, () -> cuda.launch(f, Dim.of(1), Dim.of(256), 0, null, x, x, 256L),
                "a function of an unloaded module");
        cuda.free(x);

        try (Cuda second = Cuda.open(Standin.cuda())) {
            second.makeCurrent(0);
            DeviceBuffer foreign = second.alloc(64);
            assertThrows(IllegalArgumentException.class, () -> cuda.memsetZero(foreign, null), "another Cuda's buffer");
            second.free(foreign);
            second.close();
            assertThrows(IllegalStateException.class, () -> second.alloc(64), "a closed Cuda");
        }
    }

    @Test
    void theStandinExportsOnlyVersionedSymbols() throws Exception {
        standin();
        SymbolLookup lib = Standin.lookup();
        for (String legacy : List.of("cuMemAlloc", "cuMemFree", "cuMemcpyHtoD", "cuMemcpyDtoH", "cuStreamDestroy",
                "cuEventDestroy", "cuStreamBeginCapture", "cuDeviceTotalMem")) {
            assertFalse(lib.find(legacy).isPresent(), legacy + " must not be exported");
        }
        for (String versioned : List.of("cuMemAlloc_v2", "cuMemFree_v2", "cuMemcpyHtoD_v2", "cuStreamDestroy_v2",
                "cuStreamBeginCapture_v2", "cuGetProcAddress_v2")) {
            assertTrue(lib.find(versioned).isPresent(), versioned);
        }
    }

    @Test
    void aLibraryWithoutGetProcAddressIsRefused() {
        // libm is on every Linux loader path and is no CUDA driver.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Cuda.open(Path.of("libm.so.6")));
        assertTrue(e.getMessage().contains("cuGetProcAddress_v2"), e.getMessage());
    }

    @Test
    void aMissingLibraryNamesWhereItLooked() {
        Path missing = Path.of("target", "no-such-dir", "libcuda.so.1");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Cuda.open(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(Cuda.LIBRARY_PROPERTY), e.getMessage());
    }

    private interface Fill {
        float at(int i);
    }

    private static DeviceBuffer upload(int n, Fill fill) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = fill.at(i);
        DeviceBuffer b = cuda.alloc(4L * n);
        cuda.copyToDevice(b, MemorySegment.ofArray(values), null);
        return b;
    }

    private static float[] download(DeviceBuffer b, int n) {
        float[] out = new float[n];
        cuda.copyToHost(MemorySegment.ofArray(out), b, null);
        return out;
    }
}
