package io.basalt.model.llmc;

import io.basalt.model.Checkpoint;
import io.basalt.model.MappedFile;
import io.basalt.model.DType;
import io.basalt.model.Format;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads karpathy/llm.c GPT-2 checkpoints (version 3, fp32), memory-mapped: a 256 × int32 header
 * {20240326, 3, maxT, V, L, NH, C, Vp} then fp32 arrays stacked over layers. Tensors get the
 * Hugging Face GPT-2 names but keep llm.c's Linear [out, in] layout (the transpose of HF's Conv1D
 * weights); the header is also published as HF GPT-2 config keys.
 */
public final class LlmcReader {
    public static final int MAGIC = 20240326;
    static final int HEADER_BYTES = 256 * 4;
    /** Bounds far above GPT-2-xl; beyond them the header is garbage, not a model. */
    static final long MAX_WIDTH = 1L << 24;   // maxT, V, Vp, C
    static final long MAX_LAYERS = 1L << 12;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LlmcReader() {}

    record Header(long maxT, long vocab, long layers, long heads, long channels, long paddedVocab) {
        String describe() {
            return "max_seq_len=" + maxT + ", vocab_size=" + vocab + ", num_layers=" + layers + ", num_heads="
                    + heads + ", channels=" + channels + ", padded_vocab_size=" + paddedVocab;
        }
    }

    public static Checkpoint read(Path file) {
        return MappedFile.read(file, "llm.c checkpoint", LlmcReader::parse);
    }

    private static Checkpoint parse(Path file, MemorySegment seg, Arena arena) {
        long size = seg.byteSize();
        if (size < HEADER_BYTES) {
            throw new ModelFormatException(file, "file is too short (" + size
                    + " bytes) for an llm.c header (" + HEADER_BYTES + " bytes)");
        }
        if (seg.get(I32, 0) != MAGIC) {
            throw new ModelFormatException(file, "not an llm.c checkpoint (magic " + seg.get(I32, 0)
                    + ", expected " + MAGIC + ")");
        }
        int version = seg.get(I32, 4);
        if (version == 5) {
            throw new ModelFormatException(file, "llm.c checkpoint version 5 (bf16) is not supported yet;"
                    + " Basalt reads version 3 (fp32)");
        }
        if (version != 3) {
            throw new ModelFormatException(file, "llm.c checkpoint version " + version
                    + " is not supported; Basalt reads version 3 (fp32)");
        }
        Header h = header(file, seg);
        Map<String, long[]> layout = layout(h);
        long need = HEADER_BYTES;
        try {
            for (long[] shape : layout.values()) need = Math.addExact(need, bytes(shape));
        } catch (ArithmeticException e) {
            need = Long.MAX_VALUE;
        }
        if (need > size) {
            throw new ModelFormatException(file, "llm.c header says " + h.describe() + ", which needs "
                    + (need == Long.MAX_VALUE ? "more" : String.valueOf(need)) + " bytes but the file has " + size);
        }
        return new Checkpoint(file, Format.LLMC, metadata(h), tensors(h, layout, seg), arena);
    }

    private static Header header(Path file, MemorySegment seg) {
        long[] v = new long[6];
        for (int i = 0; i < 6; i++) v[i] = seg.get(I32, 8 + 4L * i);
        Header h = new Header(v[0], v[1], v[2], v[3], v[4], v[5]);
        String[] names = {"max_seq_len", "vocab_size", "num_layers", "num_heads", "channels", "padded_vocab_size"};
        long[] max = {MAX_WIDTH, MAX_WIDTH, MAX_LAYERS, MAX_WIDTH, MAX_WIDTH, MAX_WIDTH};
        for (int i = 0; i < 6; i++) {
            if (v[i] <= 0 || v[i] > max[i]) {
                throw new ModelFormatException(file, "llm.c header says " + h.describe() + ": " + names[i]
                        + " must be between 1 and " + max[i]);
            }
        }
        if (h.channels % h.heads != 0) {
            throw new ModelFormatException(file, "llm.c header says " + h.describe()
                    + ": channels is not a multiple of num_heads");
        }
        if (h.paddedVocab < h.vocab) {
            throw new ModelFormatException(file, "llm.c header says " + h.describe()
                    + ": padded_vocab_size is smaller than vocab_size");
        }
        return h;
    }

    /**
     * The stacked arrays in file order with their full shapes (layer dimension first). The widths
     * are bounded by the header check, so 3C and 4C cannot overflow; byte sizes use multiplyExact.
     */
    private static Map<String, long[]> layout(Header h) {
        long c = h.channels, l = h.layers;
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("wte", new long[]{h.paddedVocab, c});
        m.put("wpe", new long[]{h.maxT, c});
        m.put("ln_1.weight", new long[]{l, c});
        m.put("ln_1.bias", new long[]{l, c});
        m.put("attn.c_attn.weight", new long[]{l, 3 * c, c});
        m.put("attn.c_attn.bias", new long[]{l, 3 * c});
        m.put("attn.c_proj.weight", new long[]{l, c, c});
        m.put("attn.c_proj.bias", new long[]{l, c});
        m.put("ln_2.weight", new long[]{l, c});
        m.put("ln_2.bias", new long[]{l, c});
        m.put("mlp.c_fc.weight", new long[]{l, 4 * c, c});
        m.put("mlp.c_fc.bias", new long[]{l, 4 * c});
        m.put("mlp.c_proj.weight", new long[]{l, c, 4 * c});
        m.put("mlp.c_proj.bias", new long[]{l, c});
        m.put("ln_f.weight", new long[]{c});
        m.put("ln_f.bias", new long[]{c});
        return m;
    }

    private static long bytes(long... shape) {
        long n = 4;
        for (long s : shape) n = Math.multiplyExact(n, s);
        return n;
    }

    private static Map<String, Object> metadata(Header h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("llmc.max_seq_len", h.maxT);
        m.put("llmc.vocab_size", h.vocab);
        m.put("llmc.padded_vocab_size", h.paddedVocab);
        m.put("llmc.num_layers", h.layers);
        m.put("llmc.num_heads", h.heads);
        m.put("llmc.channels", h.channels);
        // Hugging Face GPT-2 config.json keys, so the GPT-2 architecture reads one schema.
        m.put("model_type", "gpt2");
        m.put("n_layer", h.layers);
        m.put("n_head", h.heads);
        m.put("n_embd", h.channels);
        m.put("vocab_size", h.vocab);
        m.put("n_positions", h.maxT);
        m.put("layer_norm_epsilon", 1e-5);
        return m;
    }

    private static Map<String, TensorInfo> tensors(Header h, Map<String, long[]> layout, MemorySegment seg) {
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        long pos = HEADER_BYTES;
        for (Map.Entry<String, long[]> e : layout.entrySet()) {
            String key = e.getKey();
            long[] shape = e.getValue();
            long size = bytes(shape);
            switch (key) {
                // Only the first V rows of the padded token table are real tokens.
                case "wte" -> add(out, seg, "wte.weight", pos, h.vocab, h.channels);
                case "wpe" -> add(out, seg, "wpe.weight", pos, shape);
                case "ln_f.weight", "ln_f.bias" -> add(out, seg, key, pos, shape);
                default -> {
                    // A stacked [L, ...] array: layer i is the i-th equal slice.
                    long[] per = java.util.Arrays.copyOfRange(shape, 1, shape.length);
                    long perBytes = size / h.layers;
                    for (long i = 0; i < h.layers; i++) add(out, seg, "h." + i + "." + key, pos + i * perBytes, per);
                }
            }
            pos += size;
        }
        return out;
    }

    private static void add(Map<String, TensorInfo> out, MemorySegment seg, String name, long pos, long... shape) {
        out.put(name, new TensorInfo(name, DType.F32, shape, seg.asSlice(pos, bytes(shape))));
    }
}
