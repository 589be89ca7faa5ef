package io.basalt.backend.cuda.check;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A Hugging Face Llama checkpoint (config.json + one bf16 model.safetensors) of a real shape with random weights, for the
 * decode and prefill speed steps: nothing of that size can travel to the GPU machine (64 MiB), so it is written there.
 * Unlike the benchmarks' writer (benchmarks/, which runtime-cuda cannot depend on) one random 64 MiB chunk is repeated,
 * so 16 GB is written at disk speed; the values are ≈ N(0, 0.02²), norms one, so activations stay finite.
 */
final class SyntheticLlama {
    private SyntheticLlama() { }

    record Shape(String name, int dim, int layers, int heads, int kvHeads, int hidden, int vocab, int maxPositions) {
        /** Llama-3.2-1B. */
        static final Shape LLAMA_1B = new Shape("llama-1b", 2048, 16, 32, 8, 8192, 128256, 8192);
        /** Llama-3.1-8B. */
        static final Shape LLAMA_8B = new Shape("llama-8b", 4096, 32, 32, 8, 14336, 128256, 8192);
        /** A small shape that exercises the same code on the stand-in in seconds. */
        static final Shape TINY = new Shape("llama-tiny", 256, 2, 4, 2, 512, 1024, 512);

        int kvDim() { return kvHeads * (dim / heads); }

        /** Every parameter. */
        long parameters() {
            long d = dim, kv = kvDim(), f = hidden;
            return 2L * vocab * d + layers * (2 * d + 2 * d * d + 2 * kv * d + 3 * f * d) + d;
        }

        /** Bytes a batch-1 decode step must read: every matrix once (bf16) except the embedding table (one row). */
        long bytesPerDecodeStep() { return 2 * (parameters() - (long) vocab * dim); }

        /** FLOPs of one token through the matrices (2 per weight, embedding excluded). */
        double flopsPerToken() { return 2.0 * (parameters() - (long) vocab * dim); }
    }

    private record Tensor(String name, long[] shape, boolean ones) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    static void write(Path dir, Shape s, long seed) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("model_type", "llama");
        config.put("hidden_size", s.dim());
        config.put("intermediate_size", s.hidden());
        config.put("num_hidden_layers", s.layers());
        config.put("num_attention_heads", s.heads());
        config.put("num_key_value_heads", s.kvHeads());
        config.put("vocab_size", s.vocab());
        config.put("max_position_embeddings", s.maxPositions());
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 500000.0);
        config.put("hidden_act", "silu");
        config.put("tie_word_embeddings", false);
        config.put("torch_dtype", "bfloat16");
        config.put("bos_token_id", 1);
        config.put("eos_token_id", 2);
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);

        List<Tensor> tensors = tensors(s);
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long offset = 0;
        for (Tensor t : tensors) {
            long bytes = 2 * t.elements();
            header.put(t.name(), Map.of("dtype", "BF16", "shape", t.shape(), "data_offsets", List.of(offset, offset + bytes)));
            offset += bytes;
        }
        byte[] headerJson = json.writeValueAsBytes(header);
        int padded = (headerJson.length + 7) / 8 * 8;
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer chunk = ByteBuffer.allocateDirect(64 << 20).order(ByteOrder.LITTLE_ENDIAN);
        while (chunk.hasRemaining()) chunk.putShort(bf16(0.02f * normalish(random)));
        ByteBuffer ones = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        while (ones.hasRemaining()) ones.putShort((short) 0x3F80);
        try (FileChannel out = FileChannel.open(dir.resolve("model.safetensors"), StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(headerJson);
            while (head.hasRemaining()) head.put((byte) ' ');
            writeFully(out, head.flip());
            long chunkPos = 0;
            for (Tensor t : tensors) {
                ByteBuffer src = t.ones() ? ones : chunk;
                for (long left = 2 * t.elements(); left > 0; ) {
                    // Start each piece at a moving offset of the chunk, so no two matrices are identical.
                    int from = t.ones() ? 0 : (int) (chunkPos % (src.capacity() / 2)) & ~1;
                    int n = (int) Math.min(left, src.capacity() - from);
                    writeFully(out, src.duplicate().position(from).limit(from + n));
                    left -= n;
                    chunkPos += 4096 + n;
                }
            }
        }
    }

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
    private static float normalish(SplittableRandom random) {
        long r = random.nextLong();
        long sum = (r & 0xFFFF) + ((r >>> 16) & 0xFFFF) + ((r >>> 32) & 0xFFFF) + (r >>> 48);
        return (float) ((sum - 2 * 65535.0) / (65536 / Math.sqrt(3)));
    }

    private static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }
}
