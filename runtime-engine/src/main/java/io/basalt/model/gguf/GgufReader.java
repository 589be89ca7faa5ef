package io.basalt.model.gguf;

import io.basalt.model.Checkpoint;
import io.basalt.model.MappedFile;
import io.basalt.model.DType;
import io.basalt.model.Format;
import io.basalt.model.TensorInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads GGUF (v2/v3, little-endian) files, memory-mapped.
 *
 * <p>Layout: "GGUF", u32 version, u64 tensor count, u64 key-value count, the key-value pairs, the
 * tensor infos (name, u32 n_dims, u64 ne[n_dims] innermost first, u32 ggml type, u64 offset), then
 * padding to {@code general.alignment} (default 32) and the tensor data; offsets are relative to
 * the data start. Shapes are returned outermost-first, i.e. {@code ne} reversed.
 */
public final class GgufReader {
    public static final String VERSION_KEY = "gguf.version";
    public static final String ALIGNMENT_KEY = "general.alignment";
    static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Arrays of arrays are legal GGUF but unused in practice; a deep nest is a hostile file. */
    static final int MAX_ARRAY_NESTING = 8;
    // Smallest encodings, used to bound counts by the bytes left before looping over them.
    private static final long MIN_KV_BYTES = 8 + 4 + 1;          // empty key, type, 1-byte value
    private static final long MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8; // empty name, n_dims=0, type, offset

    private GgufReader() {}

    public static Checkpoint read(Path file) {
        return MappedFile.read(file, "GGUF file", GgufReader::parse);
    }

    private static Checkpoint parse(Path file, MemorySegment seg, Arena arena) {
        GgufCursor in = new GgufCursor(file, seg);
        if (in.size() < 4 || in.i32("magic") != 0x46554747) { // "GGUF" little-endian
            throw in.error("not a GGUF file (missing \"GGUF\" magic)");
        }
        long version = in.u32("version");
        if (version == 1) throw in.error("GGUF version 1 is not supported (only versions 2 and 3)");
        if (version != 2 && version != 3) {
            throw in.error("GGUF version " + version + " is not supported (only versions 2 and 3;"
                    + " a huge number suggests a big-endian file)");
        }
        long at = in.position();
        long tensorCount = in.i64("tensor count");
        long kvCount = in.i64("key-value count");
        in.count(tensorCount, at, MIN_TENSOR_INFO_BYTES, "tensor count");
        in.count(kvCount, at + 8, MIN_KV_BYTES, "key-value count");

        Map<String, Object> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = in.position();
            String key = in.string("key of key-value pair " + i);
            Object value = value(in, in.u32("type of '" + key + "'"), key, 0);
            if (metadata.putIfAbsent(key, value) != null) {
                throw in.error("key '" + key + "' at offset " + keyAt + " appears twice");
            }
        }
        long alignment = alignment(in, metadata.get(ALIGNMENT_KEY));
        metadata.put(VERSION_KEY, version);

        List<Info> infos = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) infos.add(info(in, i));

        // Tensor data starts at the next multiple of the alignment after the infos.
        long pos = in.position();
        long dataStart = pos + (alignment - pos % alignment) % alignment;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Info t : infos) {
            TensorInfo ti = tensor(in, t, dataStart, alignment);
            if (tensors.putIfAbsent(t.name, ti) != null) throw in.error("tensor '" + t.name + "' appears twice");
        }
        return new Checkpoint(file, Format.GGUF, metadata, tensors, arena);
    }

    private record Info(String name, long[] ne, long type, long offset) {}

    private static Info info(GgufCursor in, long index) {
        String name = in.string("name of tensor " + index);
        long nDims = in.u32("n_dims of tensor '" + name + "'");
        if (nDims > MAX_DIMS) {
            throw in.error("tensor '" + name + "' has " + nDims + " dimensions (GGML allows at most " + MAX_DIMS + ")");
        }
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < ne.length; d++) {
            ne[d] = in.i64("ne[" + d + "] of tensor '" + name + "'");
            if (ne[d] < 0) {
                throw in.error("tensor '" + name + "' has dimension ne[" + d + "] = "
                        + Long.toUnsignedString(ne[d]) + ", which is absurd");
            }
        }
        long type = in.u32("type of tensor '" + name + "'");
        long offset = in.i64("offset of tensor '" + name + "'");
        return new Info(name, ne, type, offset);
    }

    private static TensorInfo tensor(GgufCursor in, Info t, long dataStart, long alignment) {
        GgmlType type = GgmlType.of(t.type);
        if (type == null) throw in.error("tensor '" + t.name + "' has unknown GGML type " + t.type);
        DType dtype = type.dtype();
        if (dtype == null) {
            throw in.error("tensor '" + t.name + "' has GGML type " + type + " (" + type.id()
                    + "), which Basalt does not read (it reads F32, F16, BF16, Q8_0, Q4_0, I8, I16, I32, I64, F64)");
        }
        long[] shape = new long[t.ne.length];
        for (int d = 0; d < shape.length; d++) shape[d] = t.ne[t.ne.length - 1 - d];
        if (dtype.isQuantized() && (t.ne.length == 0 || t.ne[0] % dtype.blockSize() != 0)) {
            throw in.error("tensor '" + t.name + "' of type " + type + " has a row length "
                    + (t.ne.length == 0 ? "(scalar)" : t.ne[0]) + " that is not a multiple of the block size "
                    + dtype.blockSize());
        }
        long bytes;
        try {
            long n = 1;
            for (long d : t.ne) n = Math.multiplyExact(n, d);
            bytes = dtype.byteSize(n);
        } catch (ArithmeticException e) {
            throw in.error("tensor '" + t.name + "' shape " + Arrays.toString(shape) + " is too large");
        }
        if (t.offset < 0 || t.offset % alignment != 0) {
            throw in.error("tensor '" + t.name + "' has offset " + Long.toUnsignedString(t.offset)
                    + ", which is not a multiple of the alignment " + alignment);
        }
        long available = in.size() - dataStart;
        if (available < 0 || t.offset > available || bytes > available - t.offset) {
            throw in.error("tensor '" + t.name + "' (" + bytes + " bytes at data offset " + t.offset
                    + ") runs past the end of the file (" + in.size() + " bytes; truncated file?)");
        }
        return new TensorInfo(t.name, dtype, shape, in.slice(dataStart + t.offset, bytes));
    }

    private static long alignment(GgufCursor in, Object value) {
        if (value == null) return DEFAULT_ALIGNMENT;
        if (value instanceof Long a && a > 0 && a <= (1L << 30) && Long.bitCount(a) == 1) return a;
        throw in.error(ALIGNMENT_KEY + " is " + value + "; it must be a power of two");
    }

    /**
     * One value of GGUF type {@code type}: integers become Long (unsigned types read unsigned),
     * f32 Float, f64 Double, bool Boolean, string String, array an unmodifiable List.
     */
    private static Object value(GgufCursor in, long type, String key, int depth) {
        String what = "value of '" + key + "'";
        return switch ((int) Math.min(type, Integer.MAX_VALUE)) {
            case 0 -> (long) in.u8(what);
            case 1 -> (long) in.i8(what);
            case 2 -> (long) in.u16(what);
            case 3 -> (long) in.i16(what);
            case 4 -> in.u32(what);
            case 5 -> (long) in.i32(what);
            case 6 -> in.f32(what);
            case 7 -> in.u8(what) != 0;
            case 8 -> in.string(what);
            case 9 -> array(in, key, depth);
            case 10, 11 -> in.i64(what);
            case 12 -> in.f64(what);
            default -> throw in.error("key '" + key + "' has unknown GGUF value type " + type);
        };
    }

    private static List<Object> array(GgufCursor in, String key, int depth) {
        if (depth >= MAX_ARRAY_NESTING) {
            throw in.error("key '" + key + "' nests arrays more than " + MAX_ARRAY_NESTING + " deep");
        }
        long elemType = in.u32("array element type of '" + key + "'");
        long at = in.position();
        long count = in.i64("array length of '" + key + "'");
        long minBytes = switch ((int) Math.min(elemType, Integer.MAX_VALUE)) {
            case 0, 1, 7 -> 1;
            case 2, 3 -> 2;
            case 4, 5, 6 -> 4;
            case 8, 10, 11, 12 -> 8;
            case 9 -> 12;
            default -> throw in.error("key '" + key + "' is an array of unknown GGUF value type " + elemType);
        };
        in.count(count, at, minBytes, "array length of '" + key + "'");
        List<Object> list = new ArrayList<>((int) Math.min(count, 1 << 16));
        for (long i = 0; i < count; i++) list.add(value(in, elemType, key, depth + 1));
        return Collections.unmodifiableList(list);
    }
}
