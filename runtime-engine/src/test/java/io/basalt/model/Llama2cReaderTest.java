package io.basalt.model;

import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class Llama2cReaderTest {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final Path STORIES = Shared.model("stories260K/stories260K.bin");

    @Test
    void stories260KHeaderAndSchema() {
        try (Checkpoint c = ModelFormats.open(STORIES)) {
            assertEquals(Format.LLAMA2C, c.format());
            var m = c.metadata();
            assertEquals(64L, m.get("llama2c.dim"));
            assertEquals(172L, m.get("llama2c.hidden_dim"));
            assertEquals(5L, m.get("llama2c.n_layers"));
            assertEquals(8L, m.get("llama2c.n_heads"));
            assertEquals(4L, m.get("llama2c.n_kv_heads"));
            assertEquals(512L, m.get("llama2c.vocab_size"));
            assertEquals(512L, m.get("llama2c.seq_len"));
            assertEquals(true, m.get("llama2c.shared_classifier"));
            assertEquals("llama", m.get("general.architecture"));
            assertEquals(64L, m.get("llama.embedding_length"));
            assertEquals(172L, m.get("llama.feed_forward_length"));
            assertEquals(5L, m.get("llama.block_count"));
            assertEquals(8L, m.get("llama.attention.head_count"));
            assertEquals(4L, m.get("llama.attention.head_count_kv"));
            assertEquals(512L, m.get("llama.context_length"));
            assertEquals(512L, m.get("llama.vocab_size"));
            assertEquals(1e-5f, m.get("llama.attention.layer_norm_rms_epsilon"));
            assertEquals(10000f, m.get("llama.rope.freq_base"));
        }
    }

    @Test
    void stories260KTensorsCoverTheWholeFile() {
        try (Checkpoint c = ModelFormats.open(STORIES)) {
            assertEquals(1 + 5 * 9 + 1, c.tensors().size());
            assertFalse(c.has("output.weight")); // shared classifier
            TensorInfo emb = c.tensor("token_embd.weight", 512, 64);
            assertEquals(-0.29474878f, emb.data().getAtIndex(F32, 0), 1e-7f);
            assertEquals(0.56189561f, emb.data().getAtIndex(F32, 1), 1e-7f);
            c.tensor("blk.4.attn_q.weight", 64, 64);
            c.tensor("blk.0.attn_k.weight", 32, 64);
            c.tensor("blk.3.attn_v.weight", 32, 64);
            c.tensor("blk.2.attn_output.weight", 64, 64);
            c.tensor("blk.1.ffn_gate.weight", 172, 64);
            c.tensor("blk.1.ffn_down.weight", 64, 172);
            c.tensor("blk.1.ffn_up.weight", 172, 64);
            c.tensor("blk.0.attn_norm.weight", 64);
            c.tensor("blk.4.ffn_norm.weight", 64);
            TensorInfo norm = c.tensor("output_norm.weight", 64);
            assertEquals(2.4583089f, norm.data().getAtIndex(F32, 0), 1e-6f);
            long tensorBytes = 0;
            for (TensorInfo t : c.tensors().values()) {
                assertEquals(DType.F32, t.dtype());
                assertEquals(t.numElements() * 4, t.data().byteSize());
                tensorBytes += t.data().byteSize();
            }
            long freqCis = 2L * 512 * (64 / 8 / 2) * 4;
            assertEquals(1_056_540, 28 + tensorBytes + freqCis);
            // Layer slices are contiguous in file order: blk.1.attn_q follows blk.0.attn_q.
            assertEquals(c.tensor("blk.0.attn_q.weight").data().address() + 64 * 64 * 4,
                    c.tensor("blk.1.attn_q.weight").data().address());
        }
    }

    @Test
    void unsharedClassifierIsReadAfterFreqCis(@TempDir Path dir) throws Exception {
        // dim 4, hidden 8, 1 layer, 2 heads, 1 kv head, vocab -3 (unshared), seq_len 2; hs = 2.
        int dim = 4, hidden = 8, vocab = 3, seq = 2, hs = 2, kv = 2;
        int floats = vocab * dim + dim + dim * dim + 2 * kv * dim + dim * dim + dim + 3 * hidden * dim + dim
                + 2 * seq * hs / 2 + vocab * dim;
        ByteBuffer b = ByteBuffer.allocate(28 + 4 * floats).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dim).putInt(hidden).putInt(1).putInt(2).putInt(1).putInt(-vocab).putInt(seq);
        for (int i = 0; i < floats; i++) b.putFloat(i);
        Path file = Files.write(dir.resolve("tiny.bin"), b.array());
        try (Checkpoint c = ModelFormats.open(file)) {
            assertEquals(false, c.metadata().get("llama2c.shared_classifier"));
            assertEquals(3L, c.metadata().get("llama2c.vocab_size"));
            TensorInfo out = c.tensor("output.weight", 3, 4);
            assertEquals(floats - vocab * dim, out.data().getAtIndex(F32, 0));
            assertEquals(floats - 1, out.data().getAtIndex(F32, vocab * dim - 1));
            assertEquals(vocab * dim, c.tensor("blk.0.attn_norm.weight", 4).data().getAtIndex(F32, 0));
            c.tensor("blk.0.attn_k.weight", 2, 4);
        }
    }
}
