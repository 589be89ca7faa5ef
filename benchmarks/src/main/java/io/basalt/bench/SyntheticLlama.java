package io.basalt.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Writes a Hugging Face Llama checkpoint (config.json + one bf16 model.safetensors) of a given shape
 * with random weights, so decode and prefill can be measured at real sizes with nothing downloaded.
 * Matrices are approximately normal · 0.02 (a sum of four uniforms, much cheaper than Gaussians for
 * a billion values) and the RMSNorm scales are one, so activations stay finite; the text is noise.
 */
public final class SyntheticLlama {
    private SyntheticLlama() {}

    /** Bumped whenever the bytes written change, so an old cached copy is never measured by mistake. */
    private static final int VERSION = 1;
    private static final long SEED = 1234;

    /** A Llama shape; {@code lm_head} is never tied (the 1B models this stands for keep their own). */
    public record Shape(int dim, int layers, int heads, int kvHeads, int hidden, int vocab, int maxPositions,
                        double ropeTheta, double rmsEps) {
        /** A TinyLlama-1.1B-sized model: about 1.1 B parameters. */
        public static final Shape LLAMA_1B = new Shape(2048, 22, 32, 4, 5632, 32000, 2048, 10000, 1e-5);

        public Shape {
            if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
                throw new IllegalArgumentException("heads must divide dim (even head size) and kv heads must divide heads");
            }
        }

        int headDim() { return dim / heads; }

        int kvDim() { return kvHeads * headDim(); }

        String id() { return String.format(Locale.ROOT, "llama-d%d-l%d-h%d-kv%d-f%d-v%d", dim, layers, heads, kvHeads, hidden, vocab); }
    }

    private record Tensor(String name, long[] shape, boolean ones) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    /**
     * The checkpoint directory of this shape under the temp directory, written once (fixed seed) and
     * reused. It is written under a temporary name and renamed, so a concurrent or interrupted run
     * never sees half a checkpoint.
     */
    public static Path cached(Shape shape) throws IOException {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "basalt-synthetic-" + shape.id() + "-bf16-v" + VERSION);
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return dir;
        Path tmp = Path.of(dir + ".tmp" + ProcessHandle.current().pid());
        System.err.println("writing " + dir + " (random weights, once) ...");
        long t0 = System.nanoTime();
        try {
            write(tmp, shape, SEED);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            // another run finished first: use its copy
        } finally {
            deleteTree(tmp);
        }
        System.err.printf(Locale.ROOT, "wrote %s in %.1f s%n", dir, (System.nanoTime() - t0) / 1e9);
        return dir;
    }

    /** Writes config.json and model.safetensors (bf16) into {@code dir}, creating it. */
    public static void write(Path dir, Shape shape, long seed) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("model_type", "llama");
        config.put("hidden_size", shape.dim());
        config.put("intermediate_size", shape.hidden());
        config.put("num_hidden_layers", shape.layers());
        config.put("num_attention_heads", shape.heads());
        config.put("num_key_value_heads", shape.kvHeads());
        config.put("vocab_size", shape.vocab());
        config.put("max_position_embeddings", shape.maxPositions());
        config.put("rms_norm_eps", shape.rmsEps());
        config.put("rope_theta", shape.ropeTheta());
        config.put("hidden_act", "silu");
        config.put("tie_word_embeddings", false);
        config.put("torch_dtype", "bfloat16");
        config.put("bos_token_id", 1);
        config.put("eos_token_id", 2);
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);

        List<Tensor> tensors = tensors(shape);
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long offset = 0;
        for (Tensor t : tensors) {
            long bytes = 2 * t.elements();
            header.put(t.name(), Map.of("dtype", "BF16", "shape", t.shape(), "data_offsets", List.of(offset, offset + bytes)));
            offset += bytes;
        }
        byte[] headerJson = json.writeValueAsBytes(header);
        int padded = (headerJson.length + 7) / 8 * 8; // the data area starts 8-aligned, as safetensors writers do
        try (FileChannel out = FileChannel.open(dir.resolve("model.safetensors"), StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(headerJson);
            while (head.hasRemaining()) head.put((byte) ' ');
            writeFully(out, head.flip());
            SplittableRandom random = new SplittableRandom(seed);
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors) {
                for (long i = 0, n = t.elements(); i < n; i++) {
                    if (!buf.hasRemaining()) writeFully(out, buf.flip());
                    buf.putShort(t.ones() ? (short) 0x3F80 : bf16(0.02f * normalish(random)));
                }
            }
            writeFully(out, buf.flip());
        }
    }

    /** The tensors of an HF Llama in the order they are written. */
    private static List<Tensor> tensors(Shape s) {
        long d = s.dim(), kv = s.kvDim(), f = s.hidden();
        List<Tensor> list = new ArrayList<>();
        list.add(new Tensor("model.embed_tokens.weight", new long[] {s.vocab(), d}, false));
        for (int i = 0; i < s.layers(); i++) {
            String b = "model.layers." + i + ".";
            list.add(new Tensor(b + "input_layernorm.weight", new long[] {d}, true));
            list.add(new Tensor(b + "self_attn.q_proj.weight", new long[] {d, d}, false));
            list.add(new Tensor(b + "self_attn.k_proj.weight", new long[] {kv, d}, false));
            list.add(new Tensor(b + "self_attn.v_proj.weight", new long[] {kv, d}, false));
            list.add(new Tensor(b + "self_attn.o_proj.weight", new long[] {d, d}, false));
            list.add(new Tensor(b + "post_attention_layernorm.weight", new long[] {d}, true));
            list.add(new Tensor(b + "mlp.gate_proj.weight", new long[] {f, d}, false));
            list.add(new Tensor(b + "mlp.up_proj.weight", new long[] {f, d}, false));
            list.add(new Tensor(b + "mlp.down_proj.weight", new long[] {d, f}, false));
        }
        list.add(new Tensor("model.norm.weight", new long[] {d}, true));
        list.add(new Tensor("lm_head.weight", new long[] {s.vocab(), d}, false));
        return list;
    }

    /** Approximately standard normal: the centred, scaled sum of four 16-bit uniforms from one draw. */
    static float normalish(SplittableRandom random) {
        long r = random.nextLong();
        long sum = (r & 0xFFFF) + ((r >>> 16) & 0xFFFF) + ((r >>> 32) & 0xFFFF) + (r >>> 48);
        return (float) ((sum - 2 * 65535.0) / (65536 / Math.sqrt(3)));
    }

    /** fp32 → bf16, rounding to nearest even (finite inputs). */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
        buf.clear();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
