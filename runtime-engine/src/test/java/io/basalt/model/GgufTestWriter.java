package io.basalt.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper: writes GGUF files byte by byte. The low-level methods (u32, u64, string, ...) let a
 * test write deliberately broken files; {@link #tensors} lays out a well-formed tensor section.
 */
public final class GgufTestWriter {
    public static final int T_U32 = 4, T_F32 = 6, T_STRING = 8, T_ARRAY = 9;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** One tensor: name, GGML type id, ne (innermost first, as GGUF stores it) and its raw bytes. */
    public record T(String name, int type, long[] ne, byte[] data) {}

    public GgufTestWriter header(int version, long tensorCount, long kvCount) {
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        return u32(version).u64(tensorCount).u64(kvCount);
    }

    GgufTestWriter u32(long v) { return put(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v)); }

    GgufTestWriter u64(long v) { return put(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v)); }

    GgufTestWriter f32(float v) { return put(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v)); }

    GgufTestWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        out.writeBytes(b);
        return this;
    }

    GgufTestWriter bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    public GgufTestWriter kvString(String key, String value) { return string(key).u32(T_STRING).string(value); }

    public GgufTestWriter kvU32(String key, long value) { return string(key).u32(T_U32).u32(value); }

    public GgufTestWriter kvF32(String key, float value) { return string(key).u32(T_F32).f32(value); }

    GgufTestWriter kvStrings(String key, List<String> values) {
        string(key).u32(T_ARRAY).u32(T_STRING).u64(values.size());
        for (String v : values) string(v);
        return this;
    }

    /** Tensor infos with offsets laid out at {@code alignment}, padding, then the data. */
    public GgufTestWriter tensors(List<T> tensors, int alignment) {
        List<Long> offsets = new ArrayList<>();
        long off = 0;
        for (T t : tensors) {
            offsets.add(off);
            off = align(off + t.data().length, alignment);
        }
        for (int i = 0; i < tensors.size(); i++) {
            T t = tensors.get(i);
            string(t.name()).u32(t.ne().length);
            for (long n : t.ne()) u64(n);
            u32(t.type()).u64(offsets.get(i));
        }
        pad(alignment);
        for (T t : tensors) {
            out.writeBytes(t.data());
            pad(alignment);
        }
        return this;
    }

    private void pad(int alignment) {
        while (out.size() % alignment != 0) out.write(0);
    }

    private static long align(long v, int a) { return (v + a - 1) / a * a; }

    private GgufTestWriter put(ByteBuffer b) {
        out.writeBytes(b.array());
        return this;
    }

    byte[] toBytes() { return out.toByteArray(); }

    public Path write(Path file) {
        try {
            return Files.write(file, out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
