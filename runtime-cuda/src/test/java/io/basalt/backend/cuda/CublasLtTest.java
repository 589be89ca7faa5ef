package io.basalt.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.CublasLt.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** cuBLASLt GEMMs (y = x·Wᵀ + bias, fp32 accumulate) against a Java reference, on the stand-in libcublasLt. */
class CublasLtTest {
    private static Cuda cuda;
    private static CublasLt lt;

    private static CublasLt lt() {
        Path cudaLibrary = Standin.cuda();
        Path ltLibrary = Standin.cublasLt();
        if (lt == null) {
            cuda = Cuda.open(cudaLibrary);
            cuda.makeCurrent(0);
            lt = CublasLt.open(cuda, ltLibrary).orElseThrow();
        }
        cuda.makeCurrent(0);
        return lt;
    }

    @AfterAll
    static void close() {
        if (lt != null) lt.close();
        if (cuda != null) cuda.close();
        lt = null;
        cuda = null;
    }

    @Test
    void fp32WithoutBias() { check(DType.FP32, 37, 64, 5, false); }

    @Test
    void fp32WithBias() { check(DType.FP32, 48, 40, 3, true); }

    @Test
    void bf16WithoutBias() { check(DType.BF16, 33, 96, 4, false); }

    @Test
    void bf16WithBias() { check(DType.BF16, 64, 24, 7, true); }

    @Test
    void aShapeIsPlannedOnceAndReused() {
        // Same shape twice with different data: the cached plan must not carry the first call's bias or operands.
        check(DType.FP32, 16, 16, 2, true);
        check(DType.FP32, 16, 16, 2, true);
        check(DType.FP32, 16, 16, 2, false);
    }

    @Test
    void statusesBecomeNamedExceptions() {
        CublasLt lt = lt();
        DeviceBuffer w = cuda.alloc(256);
        DeviceBuffer x = cuda.alloc(256);
        DeviceBuffer y = cuda.alloc(256);
        try {
            failNext("cublasLtMatmul", 13);
            CudaException e = assertThrows(CudaException.class,
                    () -> lt.matmul(y, w, x, null, DType.FP32, 4, 4, 2, null));
            assertEquals("cublasLtMatmul failed: CUBLAS_STATUS_EXECUTION_FAILED (13)", e.getMessage());
            lt.matmul(y, w, x, null, DType.FP32, 4, 4, 2, null); // one failure only; the plan is intact
        } finally {
            cuda.free(w);
            cuda.free(x);
            cuda.free(y);
        }
    }

    @Test
    void aGemmIsCapturedInAGraph() {
        CublasLt lt = lt();
        float[] w = {1, 2, 3, 4, 5, 6}; // [rows 2][cols 3]
        float[] x = {1, 1, 1};          // [n 1][cols 3]
        DeviceBuffer dw = upload(w, DType.FP32);
        DeviceBuffer dx = upload(x, DType.FP32);
        DeviceBuffer dy = cuda.alloc(16);
        Cuda.Stream s = cuda.newStream();
        try {
            cuda.memsetZero(dy, null);
            cuda.beginCapture(s);
            lt.matmul(dy, dw, dx, null, DType.FP32, 2, 3, 1, s);
            Cuda.Graph g = cuda.endCapture(s);
            Cuda.GraphExec exec = cuda.instantiate(g);
            float[] y = new float[2];
            cuda.copyToHost(MemorySegment.ofArray(y), dy, null);
            assertEquals(0f, y[0], "captured, not run");
            cuda.launch(exec, s);
            cuda.synchronize(s);
            cuda.copyToHost(MemorySegment.ofArray(y), dy, null);
            assertEquals(6f, y[0]);
            assertEquals(15f, y[1]);
            cuda.destroy(exec);
            cuda.destroy(g);
        } finally {
            cuda.destroy(s);
            cuda.free(dw);
            cuda.free(dx);
            cuda.free(dy);
        }
    }

    /** The stand-in cuBLASLt's hook: the next {@code call} returns {@code status}. */
    private static void failNext(String call, int status) {
        var lib = SymbolLookup.libraryLookup(Standin.cublasLt().toAbsolutePath(), Arena.global());
        var fail = Linker.nativeLinker().downcallHandle(lib.findOrThrow("basalt_standin_cublaslt_fail"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(0, (int) fail.invokeExact(arena.allocateFrom(call), status, 0));
        } catch (Throwable t) {
            throw t instanceof RuntimeException e ? e : new IllegalStateException(t);
        }
    }

    @Test
    void misalignedOrShortOperandsAreRefused() {
        CublasLt lt = lt();
        DeviceBuffer w = cuda.alloc(4096);
        DeviceBuffer x = cuda.alloc(4096);
        DeviceBuffer y = cuda.alloc(4096);
        try {
            assertThrows(IllegalArgumentException.class,
                    () -> lt.matmul(y, w.slice(4, 1024), x, null, DType.FP32, 8, 8, 2, null), "not 16-byte aligned");
            assertThrows(IndexOutOfBoundsException.class,
                    () -> lt.matmul(y, w, x.slice(0, 16), null, DType.FP32, 8, 8, 2, null), "x too short");
        } finally {
            cuda.free(w);
            cuda.free(x);
            cuda.free(y);
        }
    }

    @Test
    void anAbsentLibraryIsNotAnError() {
        Path missing = Path.of("target", "no-such-dir", "libcublasLt.so.13");
        // Nothing loads, so open returns before it would touch the driver (cuda may not even be open here).
        assertEquals(Optional.empty(), CublasLt.open(cuda, missing));
        String why = CublasLt.notFound(missing);
        assertTrue(why.contains(missing.toString()) && why.contains("basalt_matmul"), why);
    }

    /** y[n][rows] = x[n][cols] · Wᵀ (+ bias) on the device against the same sum in double over the exact inputs. */
    private static void check(DType dtype, int rows, int cols, int n, boolean withBias) {
        CublasLt lt = lt();
        SplittableRandom random = new SplittableRandom(rows * 31L + cols * 7L + n);
        float[] w = values(random, rows * cols, dtype);
        float[] x = values(random, n * cols, dtype);
        float[] bias = withBias ? values(random, rows, DType.FP32) : null;
        DeviceBuffer dw = upload(w, dtype);
        DeviceBuffer dx = upload(x, dtype);
        DeviceBuffer db = withBias ? upload(bias, DType.FP32) : null;
        DeviceBuffer dy = cuda.alloc(4L * n * rows);
        try {
            lt.matmul(dy, dw, dx, db, dtype, rows, cols, n, null);
            cuda.synchronize(null);
            float[] y = new float[n * rows];
            cuda.copyToHost(MemorySegment.ofArray(y), dy, null);
            for (int i = 0; i < n; i++) {
                for (int r = 0; r < rows; r++) {
                    double sum = withBias ? bias[r] : 0;
                    for (int c = 0; c < cols; c++) sum += (double) x[i * cols + c] * w[r * cols + c];
                    assertEquals(sum, y[i * rows + r], 1e-5, dtype + " y[" + i + "][" + r + "]");
                }
            }
        } finally {
            cuda.free(dw);
            cuda.free(dx);
            if (db != null) cuda.free(db);
            cuda.free(dy);
        }
    }

    /** Values in [-1, 1) that the dtype holds exactly (bf16: rounded, then widened back). */
    private static float[] values(SplittableRandom random, int count, DType dtype) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            float f = (float) (random.nextDouble() * 2 - 1);
            v[i] = dtype == DType.BF16 ? widen(bf16(f)) : f;
        }
        return v;
    }

    /** Round to nearest even (the finite values used here never overflow). */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    static float widen(short bits) { return Float.intBitsToFloat((bits & 0xFFFF) << 16); }

    private static DeviceBuffer upload(float[] values, DType dtype) {
        DeviceBuffer b = cuda.alloc((long) values.length * dtype.bytes);
        if (dtype == DType.BF16) {
            short[] bits = new short[values.length];
            for (int i = 0; i < values.length; i++) bits[i] = bf16(values[i]);
            cuda.copyToDevice(b, MemorySegment.ofArray(bits), null);
        } else {
            cuda.copyToDevice(b, MemorySegment.ofArray(values), null);
        }
        return b;
    }
}
