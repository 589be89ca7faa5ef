package io.basalt.model;

import io.basalt.model.gguf.GgmlType;
import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GgufReaderTest {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final Path LLAMA = Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");

    @Test
    void tinyLlamaMetadata() {
        try (Checkpoint c = ModelFormats.open(LLAMA)) {
            assertEquals(Format.GGUF, c.format());
            assertEquals(18 + 1, c.metadata().size()); // 18 pairs + gguf.version
            assertEquals(3L, c.metadata().get("gguf.version"));
            assertEquals("llama", c.metadata().get("general.architecture"));
            assertEquals("LLaMA v2", c.metadata().get("general.name"));
            assertEquals(8L, c.metadata().get("llama.embedding_length"));
            assertEquals(4096L, c.metadata().get("llama.context_length"));
            assertEquals(1L, c.metadata().get("llama.block_count"));
            assertEquals(32L, c.metadata().get("llama.feed_forward_length"));
            assertEquals(1e-5f, (Float) c.metadata().get("llama.attention.layer_norm_rms_epsilon"), 1e-12f);
            assertEquals(1L, c.metadata().get("tokenizer.ggml.bos_token_id"));
            List<?> tokens = (List<?>) c.metadata().get("tokenizer.ggml.tokens");
            assertEquals(32000, tokens.size());
            assertEquals("<unk>", tokens.get(0));
            assertEquals("<s>", tokens.get(1));
            assertEquals("</s>", tokens.get(2));
            List<?> scores = (List<?>) c.metadata().get("tokenizer.ggml.scores");
            assertEquals(32000, scores.size());
            assertInstanceOf(Float.class, scores.get(100));
            List<?> types = (List<?>) c.metadata().get("tokenizer.ggml.token_type");
            assertEquals(List.of(2L, 3L, 3L), types.subList(0, 3));
        }
    }

    @Test
    void tinyLlamaTensorsHaveReversedShapes() {
        try (Checkpoint c = ModelFormats.open(LLAMA)) {
            assertEquals(12, c.tensors().size());
            TensorInfo emb = c.tensor("token_embd.weight", 32000, 8);
            assertEquals(DType.F16, emb.dtype());
            assertEquals(32000L * 8 * 2, emb.data().byteSize());
            assertEquals(DType.F16, c.tensor("blk.0.ffn_gate.weight", 32, 8).dtype());
            assertEquals(DType.F16, c.tensor("blk.0.ffn_up.weight", 32, 8).dtype());
            assertEquals(DType.F16, c.tensor("blk.0.ffn_down.weight", 8, 32).dtype());
            assertEquals(DType.F16, c.tensor("blk.0.attn_q.weight", 8, 8).dtype());
            assertEquals(DType.F16, c.tensor("output.weight", 32000, 8).dtype());
            assertEquals(DType.F32, c.tensor("blk.0.attn_norm.weight", 8).dtype());
            assertEquals(DType.F32, c.tensor("output_norm.weight", 8).dtype());
            // The last tensor ends exactly at the end of the file: data start = 724398 aligned to 32.
            TensorInfo out = c.tensor("output.weight");
            long base = emb.data().address() - 724416;
            assertEquals(724416 + 514144, out.data().address() - base);
            assertEquals(1_750_560, out.data().address() - base + out.data().byteSize());
            // Norm weights of a random-init Llama are finite.
            float w = c.tensor("output_norm.weight").data().getAtIndex(F32, 0);
            assertTrue(Float.isFinite(w));
        }
    }

    @Test
    void quantizedAndBf16TensorsReadBackWithRightShapesAndBytes(@TempDir Path dir) {
        byte[] q8 = pattern(2 * 3 * 34, 1);   // ne=[64, 3]: 3 rows of 2 Q8_0 blocks
        byte[] q4 = pattern(4 * 18, 2);       // ne=[32, 2, 2]: 4 Q4_0 blocks
        byte[] bf = pattern(5 * 2 * 2, 3);    // ne=[5, 2] BF16
        byte[] f32 = SafetensorsTestWriter.f32(1.5f, -2f, 3.25f);
        Path file = new GgufTestWriter().header(3, 4, 3)
                .kvString("general.architecture", "test")
                .kvU32("general.alignment", 64)
                .kvStrings("names", List.of("a", "bé", ""))
                .tensors(List.of(
                        new GgufTestWriter.T("q8", GgmlType.Q8_0.id(), new long[]{64, 3}, q8),
                        new GgufTestWriter.T("q4", GgmlType.Q4_0.id(), new long[]{32, 2, 2}, q4),
                        new GgufTestWriter.T("bf", GgmlType.BF16.id(), new long[]{5, 2}, bf),
                        new GgufTestWriter.T("f", GgmlType.F32.id(), new long[]{3}, f32)), 64)
                .write(dir.resolve("synthetic.gguf"));
        try (Checkpoint c = ModelFormats.open(file)) {
            assertEquals(64L, c.metadata().get("general.alignment"));
            assertEquals(List.of("a", "bé", ""), c.metadata().get("names"));
            TensorInfo t8 = c.tensor("q8", 3, 64);
            assertEquals(DType.Q8_0, t8.dtype());
            assertArrayEquals(q8, t8.data().toArray(ValueLayout.JAVA_BYTE));
            TensorInfo t4 = c.tensor("q4", 2, 2, 32);
            assertEquals(DType.Q4_0, t4.dtype());
            assertArrayEquals(q4, t4.data().toArray(ValueLayout.JAVA_BYTE));
            TensorInfo tb = c.tensor("bf", 2, 5);
            assertEquals(DType.BF16, tb.dtype());
            assertArrayEquals(bf, tb.data().toArray(ValueLayout.JAVA_BYTE));
            assertEquals(-2f, c.tensor("f", 3).data().getAtIndex(F32, 1));
            // Offsets honour the 64-byte alignment.
            assertEquals(0, (t4.data().address() - t8.data().address()) % 64);
        }
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed * 7);
        return b;
    }
}
