package io.basalt.model.gguf;

import io.basalt.model.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A bounds-checked little-endian reader over a mapped GGUF file. Every read first checks that the
 * bytes exist, so a lying length or count ends in a {@link ModelFormatException} naming the offset,
 * never in an out-of-bounds access or a huge allocation.
 */
final class GgufCursor {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment seg;
    private long pos;

    GgufCursor(Path file, MemorySegment seg) {
        this.file = file;
        this.seg = seg;
    }

    long position() { return pos; }

    long size() { return seg.byteSize(); }

    long remaining() { return seg.byteSize() - pos; }

    ModelFormatException error(String problem) { return new ModelFormatException(file, problem); }

    private long take(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw error(what + " at offset " + pos + " runs past the end of the file (" + seg.byteSize()
                    + " bytes; truncated or corrupt GGUF)");
        }
        long at = pos;
        pos += n;
        return at;
    }

    int u8(String what) { return seg.get(ValueLayout.JAVA_BYTE, take(1, what)) & 0xFF; }

    byte i8(String what) { return seg.get(ValueLayout.JAVA_BYTE, take(1, what)); }

    int u16(String what) { return seg.get(I16, take(2, what)) & 0xFFFF; }

    short i16(String what) { return seg.get(I16, take(2, what)); }

    long u32(String what) { return seg.get(I32, take(4, what)) & 0xFFFF_FFFFL; }

    int i32(String what) { return seg.get(I32, take(4, what)); }

    /** A u64 or i64; the caller decides whether a value with the top bit set is acceptable. */
    long i64(String what) { return seg.get(I64, take(8, what)); }

    float f32(String what) { return seg.get(F32, take(4, what)); }

    double f64(String what) { return seg.get(F64, take(8, what)); }

    /** A GGUF string: u64 byte length then UTF-8 bytes (no terminator). */
    String string(String what) {
        long at = pos;
        long len = i64(what + " length");
        if (len < 0 || len > remaining() || len > Integer.MAX_VALUE - 16) {
            throw error(what + " at offset " + at + " has length " + Long.toUnsignedString(len)
                    + ", which runs past the end of the file (" + remaining() + " bytes left)");
        }
        byte[] bytes = seg.asSlice(take(len, what), len).toArray(ValueLayout.JAVA_BYTE);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * Checks a u64 count read at {@code at} against the bytes left, given that each item takes at
     * least {@code minItemBytes}; returns it when plausible.
     */
    long count(long count, long at, long minItemBytes, String what) {
        if (count < 0 || count > remaining() / minItemBytes) {
            throw error(what + " " + Long.toUnsignedString(count) + " at offset " + at
                    + " is impossible: only " + remaining() + " bytes remain and each needs at least "
                    + minItemBytes);
        }
        return count;
    }

    MemorySegment slice(long offset, long length) { return seg.asSlice(offset, length); }
}
