package io.basalt.model;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test helper: writes small .safetensors files (well-formed or deliberately broken). */
public final class SafetensorsTestWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsTestWriter() {}

    /** One tensor to write: safetensors dtype name, shape and raw little-endian bytes. */
    public record T(String name, String dtype, long[] shape, byte[] data) {}

    /** Writes the tensors back to back, with a correct header. */
    public static void write(Path file, List<T> tensors, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null) header.put("__metadata__", metadata);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (T t : tensors) {
            long begin = data.size();
            data.writeBytes(t.data());
            header.put(t.name(), Map.of("dtype", t.dtype(), "shape", t.shape(),
                    "data_offsets", List.of(begin, (long) data.size())));
        }
        try {
            writeRaw(file, JSON.writeValueAsString(header), data.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes u64 header length, the given header text (padded with spaces to 8 bytes), data. */
    static void writeRaw(Path file, String headerJson, byte[] data) {
        byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) b.put((byte) ' ');
        b.put(data);
        try {
            Files.write(file, b.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Little-endian float32 bytes. */
    public static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }
}
