package io.basalt.model.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.model.Checkpoint;
import io.basalt.model.MappedFile;
import io.basalt.model.DType;
import io.basalt.model.Format;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads Hugging Face safetensors checkpoints, memory-mapped: a directory holding {@code config.json}
 * plus {@code model.safetensors} (or shards listed in {@code model.safetensors.index.json}), or a
 * single {@code .safetensors} file.
 *
 * <p>File layout: u64 LE header length N, N bytes of JSON {@code {name: {dtype, shape,
 * data_offsets: [begin, end]}, "__metadata__": {...}}}, then the data area; offsets are relative
 * to the start of the data area.
 */
public final class SafetensorsReader {
    /** Real headers are a few MB at most (one entry per tensor); more is a broken or hostile file. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    public static final String CONFIG = "config.json";
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    /** Metadata key under which the headers' {@code __metadata__} entries are kept. */
    public static final String METADATA_KEY = "safetensors.metadata";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final ValueLayout.OfLong U64 =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SafetensorsReader() {}

    /** Opens a Hugging Face directory or a single {@code .safetensors} file. */
    public static Checkpoint read(Path path) {
        return Files.isDirectory(path) ? readDirectory(path) : readFile(path);
    }

    /** A directory: config.json is required; then the index (sharded) or model.safetensors. */
    public static Checkpoint readDirectory(Path dir) {
        Path config = dir.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            throw new ModelFormatException(dir, "no " + CONFIG + " in the directory (a Hugging Face model "
                    + "directory needs config.json next to its .safetensors files)");
        }
        Map<String, Object> metadata = new LinkedHashMap<>(readConfig(config));
        Path index = dir.resolve(INDEX);
        Path single = dir.resolve(SINGLE);
        Arena arena = Arena.ofShared();
        try {
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, Object> stMetadata = new LinkedHashMap<>();
            if (Files.isRegularFile(index)) {
                readSharded(dir, index, arena, tensors, stMetadata);
            } else if (Files.isRegularFile(single)) {
                stMetadata.putAll(mapFile(single, arena, tensors));
            } else {
                throw new ModelFormatException(dir, "the directory has neither " + SINGLE + " nor " + INDEX);
            }
            if (!stMetadata.isEmpty()) metadata.put(METADATA_KEY, stMetadata);
            return new Checkpoint(dir, Format.SAFETENSORS, metadata, tensors, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A single .safetensors file; its directory's config.json is used when present. */
    public static Checkpoint readFile(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path config = dir == null ? null : dir.resolve(CONFIG);
        Map<String, Object> metadata = new LinkedHashMap<>();
        if (config != null && Files.isRegularFile(config)) metadata.putAll(readConfig(config));
        Arena arena = Arena.ofShared();
        try {
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, Object> stMetadata = mapFile(file, arena, tensors);
            if (!stMetadata.isEmpty()) metadata.put(METADATA_KEY, stMetadata);
            return new Checkpoint(file, Format.SAFETENSORS, metadata, tensors, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** config.json as Jackson's plain Map/List/Integer/Long/Double/String/Boolean view. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> readConfig(Path config) {
        try {
            JsonNode node = JSON.readTree(config.toFile());
            if (node == null || !node.isObject()) {
                throw new ModelFormatException(config, CONFIG + " is not a JSON object");
            }
            return JSON.convertValue(node, Map.class);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(config, CONFIG + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(config, "cannot read " + CONFIG + ": " + e, e);
        }
    }

    /** Maps every shard named in the index's weight_map and checks each listed tensor is in its shard. */
    private static void readSharded(Path dir, Path index, Arena arena, Map<String, TensorInfo> tensors,
                                    Map<String, Object> stMetadata) {
        JsonNode weightMap;
        try {
            JsonNode root = JSON.readTree(index.toFile());
            weightMap = root == null ? null : root.get("weight_map");
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(index, INDEX + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(index, "cannot read " + INDEX + ": " + e, e);
        }
        if (weightMap == null || !weightMap.isObject()) {
            throw new ModelFormatException(index, INDEX + " has no \"weight_map\" object");
        }
        // Group tensor names by shard, keeping the index's order.
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(index, "weight_map entry '" + e.getKey() + "' is not a file name");
            }
            byShard.computeIfAbsent(e.getValue().asText(), k -> new ArrayList<>()).add(e.getKey());
        }
        for (Map.Entry<String, List<String>> shard : byShard.entrySet()) {
            Path file = shardPath(dir, index, shard.getKey());
            Map<String, TensorInfo> shardTensors = new LinkedHashMap<>();
            Map<String, Object> meta = mapFile(file, arena, shardTensors);
            meta.forEach(stMetadata::putIfAbsent);
            for (String name : shard.getValue()) {
                if (!shardTensors.containsKey(name)) {
                    throw new ModelFormatException(file, "tensor '" + name + "' is listed in " + INDEX
                            + " for shard '" + shard.getKey() + "' but the shard does not contain it");
                }
            }
            for (TensorInfo t : shardTensors.values()) {
                if (tensors.putIfAbsent(t.name(), t) != null) {
                    throw new ModelFormatException(file, "tensor '" + t.name() + "' appears in more than one shard");
                }
            }
        }
    }

    /** A shard name must be a plain file name inside the directory (no "../" escapes). */
    private static Path shardPath(Path dir, Path index, String name) {
        Path file = dir.resolve(name).normalize();
        if (name.isEmpty() || !dir.normalize().equals(file.getParent())) {
            throw new ModelFormatException(index, "shard name '" + name + "' is not a file in the model directory");
        }
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(dir, "shard '" + name + "' named in " + INDEX + " is missing");
        }
        return file;
    }

    /**
     * Maps one .safetensors file into {@code arena}, adds its tensors to {@code out} and returns its
     * {@code __metadata__} entries.
     */
    static Map<String, Object> mapFile(Path file, Arena arena, Map<String, TensorInfo> out) {
        MemorySegment seg = MappedFile.map(file, arena, "safetensors file");
        long size = seg.byteSize();
        if (size < 8) {
            throw new ModelFormatException(file, "file is too short (" + size + " bytes) for a safetensors header");
        }
        long headerLen = seg.get(U64, 0);
        // Compare unsigned: a length with the top bit set is "past the end" too.
        if (headerLen < 0 || headerLen > size - 8) {
            throw new ModelFormatException(file, "safetensors header length " + Long.toUnsignedString(headerLen)
                    + " runs past the end of the file (" + size + " bytes)");
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new ModelFormatException(file, "safetensors header length " + headerLen
                    + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        }
        JsonNode header;
        try {
            header = JSON.readTree(seg.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE));
        } catch (IOException e) {
            throw new ModelFormatException(file, "safetensors header is not valid JSON: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new ModelFormatException(file, "safetensors header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        MemorySegment data = seg.asSlice(dataStart);
        Map<String, Object> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            if (e.getKey().equals("__metadata__")) {
                if (e.getValue().isObject()) {
                    e.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                }
                continue;
            }
            TensorInfo t = tensor(file, e.getKey(), e.getValue(), data);
            if (out.putIfAbsent(t.name(), t) != null) {
                throw new ModelFormatException(file, "tensor '" + t.name() + "' appears twice");
            }
        }
        return metadata;
    }

    /** Validates one header entry against the data area and slices its bytes. */
    private static TensorInfo tensor(Path file, String name, JsonNode entry, MemorySegment data) {
        if (!entry.isObject()) throw new ModelFormatException(file, "tensor '" + name + "' entry is not an object");
        JsonNode dtypeNode = entry.get("dtype");
        JsonNode shapeNode = entry.get("shape");
        JsonNode offsets = entry.get("data_offsets");
        if (dtypeNode == null || !dtypeNode.isTextual() || shapeNode == null || !shapeNode.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new ModelFormatException(file, "tensor '" + name
                    + "' needs a string \"dtype\", an array \"shape\" and a two-element \"data_offsets\"");
        }
        DType dtype = dtype(file, name, dtypeNode.asText());
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegative(file, name, "shape", shapeNode.get(i));
        }
        long begin = nonNegative(file, name, "data_offsets", offsets.get(0));
        long end = nonNegative(file, name, "data_offsets", offsets.get(1));
        long expected;
        try {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            expected = dtype.byteSize(n);
        } catch (ArithmeticException ex) {
            throw new ModelFormatException(file, "tensor '" + name + "' shape "
                    + java.util.Arrays.toString(shape) + " is too large");
        }
        if (end < begin || end > data.byteSize()) {
            throw new ModelFormatException(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + "] run past the end of the data area (" + data.byteSize() + " bytes; truncated file?)");
        }
        if (end - begin != expected) {
            throw new ModelFormatException(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + "] span " + (end - begin) + " bytes but its shape " + java.util.Arrays.toString(shape)
                    + " of " + dtype + " needs " + expected + " bytes");
        }
        return new TensorInfo(name, dtype, shape, data.asSlice(begin, end - begin));
    }

    private static long nonNegative(Path file, String name, String field, JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw new ModelFormatException(file, "tensor '" + name + "' has a bad " + field
                    + " value " + n + " (must be a non-negative integer)");
        }
        return n.asLong();
    }

    private static DType dtype(Path file, String name, String s) {
        return switch (s) {
            case "F64" -> DType.F64;
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I64" -> DType.I64;
            case "I32" -> DType.I32;
            case "I16" -> DType.I16;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "BOOL" -> DType.BOOL;
            default -> throw new ModelFormatException(file, "tensor '" + name + "' has dtype '" + s
                    + "', which Basalt does not read");
        };
    }
}
