package io.basalt.backend.neuron;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;

/** The bridge's presence, and the stand-in's test-only exports through FFM (docs/NEURON.md §4). */
final class StandinBridge {
    private StandinBridge() {}

    /** Whether the JNI bridge and the stand-in libnrt load (false while Nrt is the skeleton). */
    static boolean works() {
        try {
            Nrt.open(null).close();
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    private static SymbolLookup lookup() {
        return SymbolLookup.libraryLookup(Path.of(System.getProperty("basalt.nrt.library")), Arena.global());
    }

    static void reset() {
        try {
            MethodHandle h = Linker.nativeLinker().downcallHandle(lookup().find("basalt_standin_reset").orElseThrow(), FunctionDescriptor.ofVoid());
            h.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The execute log since the last reset, one line each: {@code <neff name> <kind> batch=B length=L kv_length=K rank=r}. */
    static List<String> log() {
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle h = Linker.nativeLinker().downcallHandle(lookup().find("basalt_standin_log").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            long need = (long) h.invokeExact(MemorySegment.NULL, 0L);
            MemorySegment buf = arena.allocate(need + 1);
            long got = (long) h.invokeExact(buf, need + 1);
            String text = buf.getString(0);
            if (got != need) throw new AssertionError("the log grew while read");
            return text.lines().filter(l -> !l.isBlank()).toList();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
