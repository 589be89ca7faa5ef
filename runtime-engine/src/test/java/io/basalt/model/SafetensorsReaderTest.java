package io.basalt.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.model.safetensors.SafetensorsReader;
import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsReaderTest {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Path gpt2Hf() { return Shared.model("gpt2-tiny-random/hf"); }

    @Test
    void gpt2DirectoryHasConfigAndF32Tensors() {
        try (Checkpoint c = ModelFormats.open(gpt2Hf())) {
            assertEquals(Format.SAFETENSORS, c.format());
            assertEquals(gpt2Hf(), c.path());
            assertEquals(28, c.tensors().size());
            assertEquals(64, c.metadata().get("n_embd"));           // Jackson Integer
            assertEquals(1e-5, c.metadata().get("layer_norm_epsilon")); // Jackson Double
            assertEquals("gpt2", c.metadata().get("model_type"));
            assertEquals(List.of("GPT2LMHeadModel"), c.metadata().get("architectures"));
            assertTrue(c.metadata().containsKey("n_inner") && c.metadata().get("n_inner") == null);
            assertEquals(Map.of("format", "pt"), c.metadata().get(SafetensorsReader.METADATA_KEY));
            for (TensorInfo t : c.tensors().values()) {
                assertEquals(DType.F32, t.dtype(), t.name());
                assertEquals(t.numElements() * 4, t.data().byteSize(), t.name());
            }
            assertArrayEquals(new long[]{1000, 64}, c.tensor("wte.weight").shape());
            assertArrayEquals(new long[]{64, 64}, c.tensor("wpe.weight").shape());
            assertArrayEquals(new long[]{64, 192}, c.tensor("h.0.attn.c_attn.weight").shape());
            assertArrayEquals(new long[]{256, 64}, c.tensor("h.1.mlp.c_proj.weight").shape());
            assertArrayEquals(new long[]{64}, c.tensor("ln_f.bias").shape());
            assertTrue(c.tensor("wte.weight").data().isReadOnly());
        }
    }

    @Test
    void gpt2HfConv1DIsTheTransposeOfLlmcLinear() {
        try (Checkpoint hf = ModelFormats.open(gpt2Hf());
             Checkpoint llmc = ModelFormats.open(Shared.model("gpt2-tiny-random/llmc/gpt2_tiny_random.bin"))) {
            for (String name : List.of("h.0.attn.c_attn.weight", "h.1.mlp.c_fc.weight", "h.1.mlp.c_proj.weight")) {
                TensorInfo a = hf.tensor(name);
                TensorInfo b = llmc.tensor(name);
                long in = a.dim(0), out = a.dim(1);
                assertArrayEquals(new long[]{out, in}, b.shape(), name);
                int nonZero = 0;
                for (long i = 0; i < in; i++) {
                    for (long o = 0; o < out; o++) {
                        float x = a.data().getAtIndex(F32, i * out + o);
                        assertEquals(x, b.data().getAtIndex(F32, o * in + i), name + " [" + i + "," + o + "]");
                        if (x != 0) nonZero++;
                    }
                }
                assertTrue(nonZero > in * out / 2, "random weights should be mostly non-zero");
            }
            // Non-transposed tensors are byte-identical; wte is the first V rows of llm.c's padded table.
            for (String name : List.of("wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.1.attn.c_attn.bias", "ln_f.bias")) {
                assertEquals(-1, hf.tensor(name).data().mismatch(llmc.tensor(name).data()), name);
            }
        }
    }

    @Test
    void gptOssHfLayoutHasBf16AndMxfp4U8Tensors() {
        try (Checkpoint c = ModelFormats.open(Shared.model("gpt-oss-tiny-random/hf"))) {
            assertEquals("gpt_oss", c.metadata().get("model_type"));
            assertEquals(List.of("sliding_attention", "full_attention", "sliding_attention"), c.metadata().get("layer_types"));
            assertTrue(c.metadata().get("rope_scaling") instanceof Map<?, ?> m && m.get("factor").equals(32.0));
            assertEquals(3 + 3 * 19, c.tensors().size());
            TensorInfo emb = c.tensor("model.embed_tokens.weight", 1000, 64);
            assertEquals(DType.BF16, emb.dtype());
            assertEquals(1000 * 64 * 2, emb.data().byteSize());
            assertEquals(DType.BF16, c.tensor("model.layers.2.self_attn.q_proj.weight", 512, 64).dtype());
            assertEquals(DType.BF16, c.tensor("model.layers.1.self_attn.sinks", 8).dtype());
            TensorInfo blocks = c.tensor("model.layers.0.mlp.experts.gate_up_proj_blocks", 8, 128, 2, 16);
            assertEquals(DType.U8, blocks.dtype());
            assertEquals(8 * 128 * 2 * 16, blocks.data().byteSize());
            assertEquals(DType.U8, c.tensor("model.layers.2.mlp.experts.down_proj_scales", 8, 64, 2).dtype());
            assertEquals(DType.BF16, c.tensor("model.layers.0.mlp.experts.down_proj_bias", 8, 64).dtype());
            assertEquals(DType.BF16, c.tensor("lm_head.weight", 1000, 64).dtype());
            // e8m0 scales are documented to lie in [120, 126].
            TensorInfo scales = c.tensor("model.layers.0.mlp.experts.gate_up_proj_scales");
            for (long i = 0; i < scales.data().byteSize(); i++) {
                int s = scales.data().get(ValueLayout.JAVA_BYTE, i) & 0xFF;
                assertTrue(s >= 120 && s <= 126, "scale " + s);
            }
        }
    }

    @Test
    void gptOssOriginalLayout() {
        try (Checkpoint c = ModelFormats.open(Shared.model("gpt-oss-tiny-random/original"))) {
            assertEquals(8, c.metadata().get("num_experts"));
            assertEquals(150000.0, c.metadata().get("rope_theta"));
            assertEquals(DType.BF16, c.tensor("embedding.weight", 1000, 64).dtype());
            assertEquals(DType.BF16, c.tensor("block.0.attn.qkv.weight", 768, 64).dtype());
            assertEquals(DType.BF16, c.tensor("block.2.attn.out.weight", 64, 512).dtype());
            assertEquals(DType.U8, c.tensor("block.1.mlp.mlp1_weight.blocks", 8, 128, 2, 16).dtype());
            assertEquals(DType.U8, c.tensor("block.1.mlp.mlp2_weight.scales", 8, 64, 2).dtype());
            assertEquals(DType.BF16, c.tensor("block.1.mlp.mlp1_bias", 8, 128).dtype());
            assertEquals(DType.BF16, c.tensor("unembedding.weight", 1000, 64).dtype());
            assertFalse(c.metadata().containsKey(SafetensorsReader.METADATA_KEY)); // this header has none
        }
    }

    @Test
    void singleSafetensorsFileUsesItsDirectoryConfig() {
        Path file = gpt2Hf().resolve("model.safetensors");
        try (Checkpoint c = ModelFormats.open(file)) {
            assertEquals(Format.SAFETENSORS, c.format());
            assertEquals(file, c.path());
            assertEquals(2, c.metadata().get("n_layer"));
            assertEquals(28, c.tensors().size());
        }
    }

    @Test
    void singleFileWithoutConfigStillOpens(@TempDir Path dir) {
        Path file = dir.resolve("weights.safetensors");
        SafetensorsTestWriter.write(file, List.of(new SafetensorsTestWriter.T("x", "F32", new long[]{2, 2},
                SafetensorsTestWriter.f32(1, 2, 3, 4))), null);
        try (Checkpoint c = ModelFormats.open(file)) {
            assertTrue(c.metadata().isEmpty());
            assertEquals(4f, c.tensor("x", 2, 2).data().getAtIndex(F32, 3));
        }
    }

    @Test
    void shardedDirectoryGivesTheSameTensors(@TempDir Path dir) throws Exception {
        // Re-split the gpt2 fixture into two shards + an index.
        Files.copy(gpt2Hf().resolve("config.json"), dir.resolve("config.json"));
        Map<String, String> weightMap = new LinkedHashMap<>();
        try (Checkpoint single = ModelFormats.open(gpt2Hf())) {
            List<SafetensorsTestWriter.T> a = new ArrayList<>(), b = new ArrayList<>();
            int i = 0;
            for (TensorInfo t : single.tensors().values()) {
                var st = new SafetensorsTestWriter.T(t.name(), "F32", t.shape(), t.data().toArray(ValueLayout.JAVA_BYTE));
                String shard = (i++ % 2 == 0) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                (shard.contains("00001-of") ? a : b).add(st);
                weightMap.put(t.name(), shard);
            }
            SafetensorsTestWriter.write(dir.resolve("model-00001-of-00002.safetensors"), a, Map.of("format", "pt"));
            SafetensorsTestWriter.write(dir.resolve("model-00002-of-00002.safetensors"), b, Map.of("format", "pt"));
            new ObjectMapper().writeValue(dir.resolve("model.safetensors.index.json").toFile(),
                    Map.of("metadata", Map.of("total_size", 672768), "weight_map", weightMap));

            try (Checkpoint sharded = ModelFormats.open(dir)) {
                assertEquals(Format.SAFETENSORS, sharded.format());
                assertEquals(single.tensors().keySet(), sharded.tensors().keySet());
                assertEquals(single.metadata(), sharded.metadata());
                for (TensorInfo t : single.tensors().values()) {
                    TensorInfo s = sharded.tensor(t.name());
                    assertArrayEquals(t.shape(), s.shape());
                    assertEquals(t.dtype(), s.dtype());
                    assertEquals(-1, t.data().mismatch(s.data()), t.name());
                }
            }
        }
    }

    @Test
    void tensorsAreUnusableAfterClose() {
        Checkpoint c = ModelFormats.open(gpt2Hf());
        TensorInfo t = c.tensor("wte.weight");
        t.data().getAtIndex(F32, 0);
        c.close();
        assertThrows(IllegalStateException.class, () -> t.data().getAtIndex(F32, 0));
    }
}
