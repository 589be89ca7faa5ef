package io.basalt.model.llama2c;

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
 * Reads karpathy/llama2.c legacy (v0) checkpoints, memory-mapped: 7 int32 header fields then fp32
 * arrays stacked over layers (see docs/MODELS.md). Tensors are exposed per layer under GGUF names
 * and the header is also published under GGUF-style {@code llama.*} keys, so the Llama
 * architecture reads a single schema for both formats.
 */
public final class Llama2cReader {
    static final int HEADER_BYTES = 7 * 4;
    /** export.py's v1/v2 files start with "ak42"; Basalt reads only the legacy layout. */
    static final int EXPORT_MAGIC = 0x616b3432;
    /** Bounds far above any llama2.c model; beyond them the header is garbage, not a model. */
    static final long MAX_WIDTH = 1L << 24;      // dim, hidden_dim, vocab_size, seq_len
    static final long MAX_LAYERS = 1L << 12;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Llama2cReader() {}

    /** The seven header fields; {@code vocab} is the absolute value, {@code shared} its sign. */
    record Header(long dim, long hidden, long layers, long heads, long kvHeads, long vocab, long seqLen,
                  boolean shared) {
        long headSize() { return dim / heads; }

        String describe() {
            return "dim=" + dim + ", hidden_dim=" + hidden + ", n_layers=" + layers + ", n_heads=" + heads
                    + ", n_kv_heads=" + kvHeads + ", vocab_size=" + (shared ? vocab : -vocab) + ", seq_len=" + seqLen;
        }
    }

    public static Checkpoint read(Path file) {
        return MappedFile.read(file, "llama2.c checkpoint", Llama2cReader::parse);
    }

    private static Checkpoint parse(Path file, MemorySegment seg, Arena arena) {
        long size = seg.byteSize();
        if (size < HEADER_BYTES) {
            throw new ModelFormatException(file, "file is too short (" + size + " bytes) for a llama2.c header");
        }
        int first = seg.get(I32, 0);
        if (first == EXPORT_MAGIC) {
            throw new ModelFormatException(file, "llama2.c export version " + seg.get(I32, 4)
                    + " (\"ak42\" header) is not supported; Basalt reads the legacy v0 llama2.c format");
        }
        Header h = header(file, seg);
        long need = expectedBytes(file, h);
        if (need > size) {
            throw new ModelFormatException(file, "llama2.c header says " + h.describe() + ", which needs "
                    + need + " bytes but the file has " + size);
        }
        return new Checkpoint(file, Format.LLAMA2C, metadata(h), tensors(h, seg), arena);
    }

    /** Reads and validates the header before anything is sized from it. */
    private static Header header(Path file, MemorySegment seg) {
        long[] v = new long[7];
        for (int i = 0; i < 7; i++) v[i] = seg.get(I32, 4L * i);
        boolean shared = v[5] > 0;
        Header h = new Header(v[0], v[1], v[2], v[3], v[4], Math.abs(v[5]), v[6], shared);
        String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
        long[] abs = {h.dim, h.hidden, h.layers, h.heads, h.kvHeads, h.vocab, h.seqLen};
        long[] max = {MAX_WIDTH, MAX_WIDTH, MAX_LAYERS, MAX_WIDTH, MAX_WIDTH, MAX_WIDTH, MAX_WIDTH};
        for (int i = 0; i < 7; i++) {
            if (abs[i] <= 0) {
                throw new ModelFormatException(file, "llama2.c header says " + h.describe() + ": " + names[i]
                        + " must be positive (is this a llama2.c checkpoint?)");
            }
            if (abs[i] > max[i]) {
                throw new ModelFormatException(file, "llama2.c header says " + h.describe() + ": " + names[i]
                        + "=" + abs[i] + " is absurdly large (limit " + max[i] + "; is this a llama2.c checkpoint?)");
            }
        }
        if (h.dim % h.heads != 0) {
            throw new ModelFormatException(file, "llama2.c header says " + h.describe()
                    + ": dim is not a multiple of n_heads");
        }
        if (h.heads % h.kvHeads != 0) {
            throw new ModelFormatException(file, "llama2.c header says " + h.describe()
                    + ": n_heads is not a multiple of n_kv_heads");
        }
        return h;
    }

    /** Bytes the header implies, in run.c's order (freq_cis skipped as run.c does); overflow is an error. */
    private static long expectedBytes(Path file, Header h) {
        try {
            long floats = 0;
            for (long n : layout(h).values()) floats = Math.addExact(floats, n);
            long freqCis = Math.multiplyExact(2, Math.multiplyExact(h.seqLen, h.headSize()) / 2);
            floats = Math.addExact(floats, freqCis);
            return Math.addExact(HEADER_BYTES, Math.multiplyExact(floats, 4L));
        } catch (ArithmeticException e) {
            throw new ModelFormatException(file, "llama2.c header says " + h.describe()
                    + ", which needs more bytes than a file can hold");
        }
    }

    /** Stacked arrays in file order → float counts (all layers), excluding freq_cis and wcls's position. */
    private static Map<String, Long> layout(Header h) {
        long hs = h.headSize(), d = h.dim, l = h.layers;
        long q = Math.multiplyExact(h.heads, hs), kv = Math.multiplyExact(h.kvHeads, hs);
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("token_embd", Math.multiplyExact(h.vocab, d));
        m.put("attn_norm", Math.multiplyExact(l, d));
        m.put("attn_q", Math.multiplyExact(l, Math.multiplyExact(q, d)));
        m.put("attn_k", Math.multiplyExact(l, Math.multiplyExact(kv, d)));
        m.put("attn_v", Math.multiplyExact(l, Math.multiplyExact(kv, d)));
        m.put("attn_output", Math.multiplyExact(l, Math.multiplyExact(d, q)));
        m.put("ffn_norm", Math.multiplyExact(l, d));
        m.put("ffn_gate", Math.multiplyExact(l, Math.multiplyExact(h.hidden, d)));
        m.put("ffn_down", Math.multiplyExact(l, Math.multiplyExact(d, h.hidden)));
        m.put("ffn_up", Math.multiplyExact(l, Math.multiplyExact(h.hidden, d)));
        m.put("output_norm", d);
        if (!h.shared) m.put("output", Math.multiplyExact(h.vocab, d)); // after freq_cis in the file
        return m;
    }

    private static Map<String, Object> metadata(Header h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("llama2c.dim", h.dim);
        m.put("llama2c.hidden_dim", h.hidden);
        m.put("llama2c.n_layers", h.layers);
        m.put("llama2c.n_heads", h.heads);
        m.put("llama2c.n_kv_heads", h.kvHeads);
        m.put("llama2c.vocab_size", h.vocab);
        m.put("llama2c.seq_len", h.seqLen);
        m.put("llama2c.shared_classifier", h.shared);
        // The same facts under the GGUF llama schema; eps and rope base are run.c's constants.
        m.put("general.architecture", "llama");
        m.put("llama.embedding_length", h.dim);
        m.put("llama.feed_forward_length", h.hidden);
        m.put("llama.block_count", h.layers);
        m.put("llama.attention.head_count", h.heads);
        m.put("llama.attention.head_count_kv", h.kvHeads);
        m.put("llama.context_length", h.seqLen);
        m.put("llama.vocab_size", h.vocab);
        m.put("llama.rope.dimension_count", h.headSize());
        m.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        m.put("llama.rope.freq_base", 10000f);
        return m;
    }

    private static Map<String, TensorInfo> tensors(Header h, MemorySegment seg) {
        long hs = h.headSize(), d = h.dim, q = h.heads * hs, kv = h.kvHeads * hs;
        Map<String, long[]> perLayer = new LinkedHashMap<>();
        perLayer.put("attn_norm", new long[]{d});
        perLayer.put("attn_q", new long[]{q, d});
        perLayer.put("attn_k", new long[]{kv, d});
        perLayer.put("attn_v", new long[]{kv, d});
        perLayer.put("attn_output", new long[]{d, q});
        perLayer.put("ffn_norm", new long[]{d});
        perLayer.put("ffn_gate", new long[]{h.hidden, d});
        perLayer.put("ffn_down", new long[]{d, h.hidden});
        perLayer.put("ffn_up", new long[]{h.hidden, d});

        Map<String, TensorInfo> out = new LinkedHashMap<>();
        long pos = HEADER_BYTES;
        pos = put(out, seg, "token_embd.weight", pos, h.vocab, d);
        // Each stacked array holds all layers back to back; layer i is the i-th equal slice.
        for (Map.Entry<String, long[]> e : perLayer.entrySet()) {
            for (long i = 0; i < h.layers; i++) {
                pos = put(out, seg, "blk." + i + "." + e.getKey() + ".weight", pos, e.getValue());
            }
        }
        pos = put(out, seg, "output_norm.weight", pos, d);
        pos += 2 * ((h.seqLen * hs / 2) * 4); // freq_cis_real and freq_cis_imag, unused
        if (!h.shared) put(out, seg, "output.weight", pos, h.vocab, d);
        return out;
    }

    private static long put(Map<String, TensorInfo> out, MemorySegment seg, String name, long pos, long... shape) {
        long bytes = 4;
        for (long s : shape) bytes *= s; // bounded by the validated expectedBytes
        out.put(name, new TensorInfo(name, DType.F32, shape, seg.asSlice(pos, bytes)));
        return pos + bytes;
    }
}
