package io.basalt.backend.cpu.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.GgufTestWriter;
import io.basalt.model.ModelFormats;
import io.basalt.model.SafetensorsTestWriter;
import io.basalt.model.TensorInfo;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same weights (stories260K) re-written in other layouts — a Hugging Face Llama directory
 * (q/k rows permuted for half-split RoPE, single file and sharded) and GGUF (F32, F16, Q8_0) — must
 * give the llama2.c model's logits. This pins each loader's naming, shape order and RoPE-layout
 * handling to one trusted model (itself checked against llama2.c in ReferenceParityTest).
 */
class LayoutEquivalenceTest {
    static final Path STORIES = Shared.model("stories260K/stories260K.bin");
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int[] TOKENS = new int[20];
    static { for (int i = 0; i < 20; i++) TOKENS[i] = i == 0 ? 1 : (i * 37 + 11) % 512; } // BOS, then spread ids

    /** llama2.c tensors under their GGUF names (file order), row-major shapes, and header facts. */
    static final Map<String, float[]> W = new LinkedHashMap<>();
    static final Map<String, long[]> SHAPE = new LinkedHashMap<>();
    static int dim, hidden, layers, heads, kvHeads, vocab, seqLen;
    static float[][] refLogits;
    static int[] refGreedy;

    @BeforeAll
    static void readStories() {
        try (Checkpoint c = ModelFormats.open(STORIES)) {
            for (TensorInfo t : c.tensors().values()) {
                W.put(t.name(), t.data().toArray(F32));
                SHAPE.put(t.name(), t.shape());
            }
            Map<String, Object> m = c.metadata();
            dim = num(m, "llama.embedding_length");
            hidden = num(m, "llama.feed_forward_length");
            layers = num(m, "llama.block_count");
            heads = num(m, "llama.attention.head_count");
            kvHeads = num(m, "llama.attention.head_count_kv");
            vocab = num(m, "llama.vocab_size");
            seqLen = num(m, "llama.context_length");
        }
        assertTrue(kvHeads < heads, "stories260K uses GQA, so k's permutation must use n_kv_heads");
        try (Model model = ModelLoader.load(STORIES)) {
            // Warm up first: a fresh JVM's first forward differs from later ones by ~1e-5 in the logits
            // (Vector API reductions run in another order before C2 compiles them), which would eat
            // the F32 comparisons' budget; the layouts, not the JIT tiers, are under test here.
            for (int i = 0; i < 3; i++) model.forward(model.newCache(), TOKENS, Model.Logits.ALL);
            refLogits = model.forward(model.newCache(), TOKENS, Model.Logits.ALL);
            refGreedy = greedy(model, 30);
        }
        assertEquals(403, SequenceSampler.argmax(refLogits[0]));
    }

    static int num(Map<String, Object> m, String key) { return ((Number) m.get(key)).intValue(); }

    // ---- Hugging Face Llama -------------------------------------------------------------------

    @Test
    void huggingFaceSingleFileMatchesLlama2c(@TempDir Path dir) throws IOException {
        writeHf(dir, hfTensors(true), 1);
        assertEquals(30, compare(dir, "HF model.safetensors", 1e-4));
    }

    @Test
    void huggingFaceTwoShardsMatchLlama2c(@TempDir Path dir) throws IOException {
        writeHf(dir, hfTensors(true), 2);
        assertTrue(Files.exists(dir.resolve("model.safetensors.index.json")));
        assertEquals(30, compare(dir, "HF 2 shards", 1e-4));
    }

    /** Control: without the q/k permutation the HF path must NOT match — the check above has teeth. */
    @Test
    void huggingFaceWithoutPermutationDiffers(@TempDir Path dir) throws IOException {
        writeHf(dir, hfTensors(false), 1);
        try (Model model = ModelLoader.load(dir)) {
            double d = maxAbsDiff(refLogits, model.forward(model.newCache(), TOKENS, Model.Logits.ALL));
            System.out.printf("LayoutEquivalenceTest: HF unpermuted (control) max |Δlogit| = %.3g%n", d);
            assertTrue(d > 0.1, "unpermuted q/k should change the logits, max |Δ| was " + d);
        }
    }

    /**
     * HF stores q/k rows so that RoPE rotates (x_i, x_{i+hs/2}); Meta/llama2.c rotates (x_{2i}, x_{2i+1}).
     * W_hf = W_meta.view(n, hs/2, 2, dim).transpose(1, 2).reshape(n·hs, dim): HF row h·hs + a·hs/2 + i
     * is Meta row h·hs + 2i + a (MODELS.md; transformers' convert_llama_weights_to_hf.py).
     */
    static float[] permute(float[] meta, int n, int cols) {
        int hs = dim / heads;
        float[] hf = new float[meta.length];
        for (int h = 0; h < n; h++) {
            for (int a = 0; a < 2; a++) {
                for (int i = 0; i < hs / 2; i++) {
                    System.arraycopy(meta, (h * hs + 2 * i + a) * cols, hf, (h * hs + a * hs / 2 + i) * cols, cols);
                }
            }
        }
        return hf;
    }

    static List<SafetensorsTestWriter.T> hfTensors(boolean permuteQk) {
        List<SafetensorsTestWriter.T> out = new ArrayList<>();
        out.add(st("model.embed_tokens.weight", "token_embd.weight", null));
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".", hf = "model.layers." + l + ".";
            out.add(st(hf + "input_layernorm.weight", b + "attn_norm.weight", null));
            out.add(st(hf + "self_attn.q_proj.weight", b + "attn_q.weight",
                    permuteQk ? permute(W.get(b + "attn_q.weight"), heads, dim) : null));
            out.add(st(hf + "self_attn.k_proj.weight", b + "attn_k.weight",
                    permuteQk ? permute(W.get(b + "attn_k.weight"), kvHeads, dim) : null));
            out.add(st(hf + "self_attn.v_proj.weight", b + "attn_v.weight", null));
            out.add(st(hf + "self_attn.o_proj.weight", b + "attn_output.weight", null));
            out.add(st(hf + "post_attention_layernorm.weight", b + "ffn_norm.weight", null));
            out.add(st(hf + "mlp.gate_proj.weight", b + "ffn_gate.weight", null));
            out.add(st(hf + "mlp.up_proj.weight", b + "ffn_up.weight", null));
            out.add(st(hf + "mlp.down_proj.weight", b + "ffn_down.weight", null));
        }
        out.add(st("model.norm.weight", "output_norm.weight", null));
        return out;
    }

    static SafetensorsTestWriter.T st(String hfName, String ggufName, float[] replaced) {
        float[] v = replaced != null ? replaced : W.get(ggufName);
        return new SafetensorsTestWriter.T(hfName, "F32", SHAPE.get(ggufName), SafetensorsTestWriter.f32(v));
    }

    /** config.json plus model.safetensors, or {@code shards} files and model.safetensors.index.json. */
    static void writeHf(Path dir, List<SafetensorsTestWriter.T> tensors, int shards) throws IOException {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("model_type", "llama");
        config.put("hidden_size", dim);
        config.put("intermediate_size", hidden);
        config.put("num_hidden_layers", layers);
        config.put("num_attention_heads", heads);
        config.put("num_key_value_heads", kvHeads);
        config.put("vocab_size", vocab);
        config.put("max_position_embeddings", seqLen);
        config.put("rms_norm_eps", 1e-5);
        config.put("rope_theta", 10000.0);
        config.put("tie_word_embeddings", true);
        ObjectMapper json = new ObjectMapper();
        json.writeValue(dir.resolve("config.json").toFile(), config);
        if (shards == 1) {
            SafetensorsTestWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            return;
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        for (int s = 0; s < shards; s++) {
            String name = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            List<SafetensorsTestWriter.T> part = tensors.subList(tensors.size() * s / shards, tensors.size() * (s + 1) / shards);
            SafetensorsTestWriter.write(dir.resolve(name), part, Map.of("format", "pt"));
            for (SafetensorsTestWriter.T t : part) {
                weightMap.put(t.name(), name);
                total += t.data().length;
            }
        }
        json.writeValue(dir.resolve("model.safetensors.index.json").toFile(),
                Map.of("metadata", Map.of("total_size", total), "weight_map", weightMap));
    }

    // ---- GGUF -----------------------------------------------------------------------------------

    @Test
    void ggufF32MatchesLlama2c(@TempDir Path dir) {
        Path file = writeGguf(dir.resolve("f32.gguf"), null);
        assertDtype(file, DType.F32);
        assertEquals(30, compare(file, "GGUF F32", 1e-4)); // as the HF layouts: JIT-tier noise reaches ~1.2e-5, a wrong layout moves them by far more
    }

    @Test
    void ggufF16StaysCloseAndGeneratesTheSameStart(@TempDir Path dir) {
        Path file = writeGguf(dir.resolve("f16.gguf"), DType.F16);
        assertDtype(file, DType.F16);
        int agree = compare(file, "GGUF F16", 2e-2);
        assertTrue(agree >= 10, "greedy tokens agreeing before the first divergence: " + agree);
    }

    @Test
    void ggufQ8_0LoadsGeneratesAndStaysClose(@TempDir Path dir) {
        Path file = writeGguf(dir.resolve("q8_0.gguf"), DType.Q8_0);
        assertDtype(file, DType.Q8_0);
        int agree = compare(file, "GGUF Q8_0", 0.5);
        assertTrue(agree >= 10, "greedy tokens agreeing before the first divergence: " + agree);
    }

    static void assertDtype(Path file, DType expected) {
        try (Checkpoint c = ModelFormats.open(file)) {
            assertEquals(expected, c.tensor("blk.0.attn_q.weight").dtype(), "the file must really hold " + expected);
            assertEquals(DType.F32, c.tensor("blk.0.attn_norm.weight").dtype());
        }
    }

    /**
     * stories260K as GGUF: llama.* keys, GGUF tensor names (llama2.c already is Meta's interleaved
     * RoPE layout, which is what GGUF stores), ne = reversed shape. Matrices in {@code matrixType}
     * (null = F32), norms F32; a Q8_0 matrix whose rows are not whole 32-blocks (ffn_down: 172
     * columns) falls back to F16, as llama.cpp's quantizer does.
     */
    static Path writeGguf(Path file, DType matrixType) {
        List<GgufTestWriter.T> tensors = new ArrayList<>();
        for (String name : W.keySet()) {
            long[] shape = SHAPE.get(name);
            long[] ne = new long[shape.length];
            for (int i = 0; i < shape.length; i++) ne[i] = shape[shape.length - 1 - i];
            DType type = shape.length == 1 || matrixType == null ? DType.F32
                    : matrixType == DType.Q8_0 && shape[1] % 32 != 0 ? DType.F16 : matrixType;
            float[] v = W.get(name);
            switch (type) {
                case F32 -> tensors.add(new GgufTestWriter.T(name, 0, ne, SafetensorsTestWriter.f32(v)));
                case F16 -> tensors.add(new GgufTestWriter.T(name, 1, ne, f16(v)));
                case Q8_0 -> tensors.add(new GgufTestWriter.T(name, 8, ne, q8_0(v)));
                default -> throw new IllegalStateException(type.name());
            }
        }
        GgufTestWriter w = new GgufTestWriter().header(3, tensors.size(), 10)
                .kvString("general.architecture", "llama")
                .kvU32("llama.context_length", seqLen)
                .kvU32("llama.embedding_length", dim)
                .kvU32("llama.block_count", layers)
                .kvU32("llama.feed_forward_length", hidden)
                .kvU32("llama.attention.head_count", heads)
                .kvU32("llama.attention.head_count_kv", kvHeads)
                .kvU32("llama.rope.dimension_count", dim / heads)
                .kvF32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .kvF32("llama.rope.freq_base", 10000f);
        return w.tensors(tensors, 32).write(file);
    }

    static byte[] f16(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putShort(Float.floatToFloat16(f));
        return b.array();
    }

    /** ggml's quantize_row_q8_0_ref: d = max|x|/127 stored as fp16, q = round(x/d) (half away from zero). */
    static byte[] q8_0(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < v.length; k += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(v[k + j]));
            float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
            b.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) b.put((byte) (int) (Math.signum(v[k + j] * id) * Math.floor(Math.abs(v[k + j] * id) + 0.5)));
        }
        return b.array();
    }

    // ---- comparison -----------------------------------------------------------------------------

    /**
     * Loads {@code path}, checks its 20-token logits against llama2.c's within {@code tol} and the
     * position-0 argmax (403), generates 30 greedy tokens from BOS and returns how many leading ones
     * agree with llama2.c's (30 = all).
     */
    static int compare(Path path, String what, double tol) {
        try (Model model = ModelLoader.load(path)) {
            float[][] logits = model.forward(model.newCache(), TOKENS, Model.Logits.ALL);
            double d = maxAbsDiff(refLogits, logits);
            int[] gen = greedy(model, 30);
            int prefix = 0;
            while (prefix < gen.length && gen[prefix] == refGreedy[prefix]) prefix++;
            System.out.printf("LayoutEquivalenceTest: %-10s max |Δlogit| = %.3g (tolerance %.0e); greedy 30 agree for %d tokens%n",
                    what, d, tol, prefix);
            assertTrue(d <= tol, what + ": max |Δlogit| " + d + " > " + tol);
            assertEquals(403, SequenceSampler.argmax(logits[0]), what + " argmax at position 0");
            return prefix;
        }
    }

    static int[] greedy(Model model, int n) {
        KvCache cache = model.newCache();
        int token = 1; // BOS
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = token = SequenceSampler.argmax(model.forward(cache, new int[] {token}, Model.Logits.LAST)[0]);
        return out;
    }

    static double maxAbsDiff(float[][] a, float[][] b) {
        assertEquals(a.length, b.length);
        double d = 0;
        for (int t = 0; t < a.length; t++) {
            assertEquals(a[t].length, b[t].length);
            for (int i = 0; i < a[t].length; i++) d = Math.max(d, Math.abs((double) a[t][i] - b[t][i]));
        }
        return d;
    }
}
