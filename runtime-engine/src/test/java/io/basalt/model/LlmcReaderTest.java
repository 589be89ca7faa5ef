package io.basalt.model;

import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class LlmcReaderTest {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final Path GPT2 = Shared.model("gpt2-tiny-random/llmc/gpt2_tiny_random.bin");

    @Test
    void headerAndGpt2ConfigKeys() {
        try (Checkpoint c = ModelFormats.open(GPT2)) {
            assertEquals(Format.LLMC, c.format());
            var m = c.metadata();
            assertEquals(64L, m.get("llmc.max_seq_len"));
            assertEquals(1000L, m.get("llmc.vocab_size"));
            assertEquals(1024L, m.get("llmc.padded_vocab_size"));
            assertEquals(2L, m.get("llmc.num_layers"));
            assertEquals(4L, m.get("llmc.num_heads"));
            assertEquals(64L, m.get("llmc.channels"));
            assertEquals(2L, m.get("n_layer"));
            assertEquals(4L, m.get("n_head"));
            assertEquals(64L, m.get("n_embd"));
            assertEquals(1000L, m.get("vocab_size"));
            assertEquals(64L, m.get("n_positions"));
            assertEquals(1e-5, m.get("layer_norm_epsilon"));
            assertEquals("gpt2", m.get("model_type"));
        }
    }

    @Test
    void tensorsHaveLinearLayoutAndCoverTheFile() {
        try (Checkpoint c = ModelFormats.open(GPT2)) {
            assertEquals(2 + 2 * 12 + 2, c.tensors().size());
            c.tensor("wte.weight", 1000, 64);
            c.tensor("wpe.weight", 64, 64);
            for (int i = 0; i < 2; i++) {
                c.tensor("h." + i + ".ln_1.weight", 64);
                c.tensor("h." + i + ".ln_1.bias", 64);
                c.tensor("h." + i + ".attn.c_attn.weight", 192, 64);
                c.tensor("h." + i + ".attn.c_attn.bias", 192);
                c.tensor("h." + i + ".attn.c_proj.weight", 64, 64);
                c.tensor("h." + i + ".attn.c_proj.bias", 64);
                c.tensor("h." + i + ".ln_2.weight", 64);
                c.tensor("h." + i + ".ln_2.bias", 64);
                c.tensor("h." + i + ".mlp.c_fc.weight", 256, 64);
                c.tensor("h." + i + ".mlp.c_fc.bias", 256);
                c.tensor("h." + i + ".mlp.c_proj.weight", 64, 256);
                c.tensor("h." + i + ".mlp.c_proj.bias", 64);
            }
            c.tensor("ln_f.weight", 64);
            TensorInfo lnfb = c.tensor("ln_f.bias", 64);
            TensorInfo wte = c.tensor("wte.weight");
            long base = wte.data().address() - 1024;
            assertEquals(679_936, lnfb.data().address() - base + lnfb.data().byteSize());
            // wte exposes only V rows; the Vp - V padding rows are skipped before wpe.
            long padStart = wte.data().address() + wte.data().byteSize();
            assertEquals(padStart + 24L * 64 * 4, c.tensor("wpe.weight").data().address());
            long sum = 0;
            for (TensorInfo t : c.tensors().values()) {
                assertEquals(DType.F32, t.dtype());
                sum += t.data().byteSize();
            }
            assertEquals(679_936 - 1024 - 24 * 64 * 4, sum);
        }
    }
}
