package io.basalt.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Memory-maps model files read-only; the one place the readers touch the file system for weights. */
public final class MappedFile {
    private MappedFile() {}

    /** Parses the mapped bytes of one file into a checkpoint that owns the mapping. */
    public interface Parser {
        Checkpoint parse(Path file, MemorySegment bytes, Arena arena);
    }

    /** Maps the whole file into {@code arena}; {@code what} names the format in the error. */
    public static MemorySegment map(Path file, Arena arena, String what) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return map(ch, arena);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read the " + what + ": " + e, e);
        }
    }

    /**
     * Maps the whole channel read-only into {@code arena} as a plain native segment. Why not the
     * mapped segment itself: the kernels' vector loads inline the JDK's segment access, whose type
     * profile is shared by every caller; once both mapped and allocated segments reach it, C2 compiles
     * the loads with type checks, and a GEMV streamed ~20 GB/s instead of ~30 GB/s (2 cores, AVX-512).
     * The re-sized view has the same address and arena, so it lives exactly as long as the mapping.
     */
    public static MemorySegment map(FileChannel ch, Arena arena) throws IOException {
        MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        return mapped.reinterpret(mapped.byteSize()).asReadOnly();
    }

    /** Maps one file into a new shared arena and parses it; the arena is closed if parsing fails. */
    public static Checkpoint read(Path file, String what, Parser parser) {
        Arena arena = Arena.ofShared(); // shared: worker threads read the weights
        try {
            return parser.parse(file, map(file, arena, what), arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }
}
