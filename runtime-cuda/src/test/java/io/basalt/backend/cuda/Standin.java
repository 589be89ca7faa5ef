package io.basalt.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The stand-in libcuda's test hooks (docs/CUDA.md §4), called through FFM on the same library path the tests give
 * {@link Cuda}, so dlopen hands back the same loaded library and its state.
 */
final class Standin {
    private Standin() { }

    /** The stand-in libcuda surefire points at (runtime-cuda/pom.xml); the test is skipped when it is not built. */
    static Path cuda() { return library(Cuda.LIBRARY_PROPERTY); }

    static Path cublasLt() { return library(CublasLt.LIBRARY_PROPERTY); }

    private static Path library(String property) {
        String value = System.getProperty(property);
        Assumptions.assumeTrue(value != null && !value.isBlank(), property + " is not set");
        Path path = Path.of(value);
        Assumptions.assumeTrue(Files.isRegularFile(path), "the stand-in is not built: " + path);
        return path;
    }

    static SymbolLookup lookup() { return SymbolLookup.libraryLookup(cuda().toAbsolutePath(), Arena.global()); }

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return Linker.nativeLinker().downcallHandle(lookup().findOrThrow(name), fd);
    }

    /** The next {@code call} (base or versioned name) fails with {@code result} after {@code skip} successes. */
    static void fail(String call, int result, int skip) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) handle("basalt_standin_cuda_fail", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT))
                    .invokeExact(arena.allocateFrom(call), result, skip);
            if (rc != 0) throw new IllegalStateException("basalt_standin_cuda_fail: " + rc);
        } catch (Throwable t) {
            throw t instanceof RuntimeException e ? e : new IllegalStateException(t);
        }
    }

    /** Clears the log and pending failures (allocations, modules and streams stay). */
    static void reset() {
        try {
            handle("basalt_standin_cuda_reset", FunctionDescriptor.ofVoid()).invokeExact();
        } catch (Throwable t) {
            throw t instanceof RuntimeException e ? e : new IllegalStateException(t);
        }
    }

    /** One line per executed kernel ("launch <kernel> grid=x,y,z") or graph replay ("graph <id> nodes=<n>"). */
    static String log() {
        MethodHandle log = handle("basalt_standin_cuda_log", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            long n = (long) log.invokeExact(MemorySegment.NULL, 0L);
            MemorySegment buf = arena.allocate(n + 1);
            long ignored = (long) log.invokeExact(buf, n + 1);
            return buf.getString(0);
        } catch (Throwable t) {
            throw t instanceof RuntimeException e ? e : new IllegalStateException(t);
        }
    }

    /** A module image with basalt_add: the real fatbin when the kernels were built, else a tiny PTX naming it. */
    static MemorySegment kernelImage(Arena arena) throws IOException {
        Path fatbin = Path.of("target/classes/kernels/cuda/basalt.fatbin");
        if (Files.isRegularFile(fatbin)) return arena.allocateFrom(JAVA_BYTE, Files.readAllBytes(fatbin));
        String ptx = """
                .version 9.0
                .target sm_90
                .address_size 64
                .visible .entry basalt_add(.param .u64 x, .param .u64 y, .param .u64 count) { ret; }
                """;
        return arena.allocateFrom(ptx);
    }
}
