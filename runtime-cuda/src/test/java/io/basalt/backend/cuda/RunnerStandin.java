package io.basalt.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The stand-in libcuda's test exports (docs/CUDA.md §4) and whether the pieces a GPU test needs are all there: the
 * stand-in built, the fatbin packed, the Cuda boundary implemented (the skeleton throws UnsupportedOperationException).
 */
final class RunnerStandin {
    private RunnerStandin() {}

    static Path library() {
        String p = System.getProperty("basalt.cuda.library");
        return p == null ? null : Path.of(p);
    }

    /** Null when everything is there, else why the test cannot run. */
    static String missing() {
        Path lib = library();
        if (lib == null || !Files.isRegularFile(lib)) return "the stand-in libcuda is not built (" + lib + ")";
        if (!Kernels.hasFatbin()) return "no fatbin in the build (" + Kernels.FATBIN + ")";
        try (Cuda cuda = Cuda.open(lib)) {
            cuda.deviceCount();
        } catch (UnsupportedOperationException e) {
            return "Cuda is still the skeleton";
        } catch (RuntimeException | LinkageError e) {
            return "the stand-in does not open: " + e;
        }
        return null;
    }

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        SymbolLookup lookup = SymbolLookup.libraryLookup(library(), Arena.global());
        return Linker.nativeLinker().downcallHandle(lookup.findOrThrow(name), d);
    }

    static void reset() {
        try {
            handle("basalt_standin_cuda_reset", FunctionDescriptor.ofVoid()).invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The launch log since the last reset: "launch <kernel> grid=x,y,z" / "graph <id> nodes=<n>". */
    static List<String> log() {
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle h = handle("basalt_standin_cuda_log", FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            long cap = 1 << 24;
            MemorySegment buf = arena.allocate(cap);
            long n = (long) h.invokeExact(buf, cap);
            String text = buf.getString(0);
            if (n > cap) throw new IllegalStateException("the stand-in log holds " + n + " bytes, more than " + cap);
            return text.lines().filter(l -> !l.isBlank()).toList();
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
