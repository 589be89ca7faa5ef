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
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read the " + what + ": " + e, e);
        }
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
