package io.basalt.backend.cpu.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormats;
import io.basalt.spi.Quantization;
import io.basalt.spi.StorageDtype;
import io.basalt.model.layout.LoadOptions;
import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;

/** What Weights does with LoadOptions: which matrices convert, which fall back, and who frees the copies. */
class WeightStorageTest {
    static final LoadOptions Q8_0 = new LoadOptions(StorageDtype.AUTO, Quantization.Q8_0);

    @Test
    void q8_0FallsBackToFloatForRowsThatAreNotWholeBlocks() {
        try (Checkpoint ck = ModelFormats.open(Shared.model("stories260K/stories260K.bin"))) {
            Weights w = new Weights(ck, Q8_0);
            WeightMatrix gate = w.matrix("blk.0.ffn_gate.weight", 172, 64);   // rows of 64: Q8_0
            WeightMatrix down = w.matrix("blk.0.ffn_down.weight", 64, 172);   // rows of 172: stays F32
            assertEquals(172, gate.rows());
            assertEquals(64, down.rows());
            String summary = w.summary();
            assertTrue(summary.contains("1 F32") && summary.contains("1 Q8_0"), summary);
            assertTrue(summary.contains("blk.0.ffn_down.weight[64, 172]") && summary.contains("multiple of 32"), summary);
            // The float fallback is the stored matrix itself: its rows read back exactly.
            float[] row = new float[172];
            down.row(3, row);
            float[] stored = new float[172];
            new Weights(ck).matrix("blk.0.ffn_down.weight", 64, 172).row(3, stored);
            assertArrayEquals(stored, row);
        }
    }

    @Test
    void autoKeepsTheStoredTypeAndConvertsNothing() {
        try (Checkpoint ck = ModelFormats.open(Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"))) {
            Weights w = new Weights(ck);
            w.matrix("blk.0.attn_q.weight", 8, 8);
            assertTrue(w.summary().startsWith("1 F16"), w.summary());
            Weights fp32 = new Weights(ck, LoadOptions.of(StorageDtype.FP32));
            fp32.matrix("blk.0.attn_q.weight", 8, 8);
            assertTrue(fp32.summary().startsWith("1 F32"), fp32.summary());
        }
    }

    @Test
    void conv1dWeightsInAnyStorageAreTransposedCopiesThatMultiplyAlike() {
        try (Checkpoint ck = ModelFormats.open(Shared.model("gpt2-tiny-random/hf"))) {
            WeightMatrix fp32 = new Weights(ck).conv1d("h.0.mlp.c_fc.weight", 64, 256);
            Weights bf16Weights = new Weights(ck, LoadOptions.of(StorageDtype.BF16));
            WeightMatrix bf16 = bf16Weights.conv1d("h.0.mlp.c_fc.weight", 64, 256);
            assertTrue(bf16Weights.summary().startsWith("1 BF16"), bf16Weights.summary());
            assertEquals(256, bf16.rows());
            assertEquals(64, bf16.cols());
            float[] x = new float[64];
            for (int i = 0; i < 64; i++) x[i] = (float) Math.sin(i);
            float[] a = new float[256];
            float[] b = new float[256];
            fp32.matvec(x, a);
            bf16.matvec(x, b);
            float[] row = new float[64];
            for (int r = 0; r < 256; r++) {
                bf16.row(r, row);
                float bound = 0;
                for (int c = 0; c < 64; c++) bound += Math.abs(row[c] * x[c]) * 0x1p-8f; // bf16 keeps 8 significant bits
                assertEquals(a[r], b[r], bound + 1e-6f, "output " + r);
            }
        }
    }

    @Test
    void convertedMatricesAreFreedWithTheCheckpoint() {
        Checkpoint ck = ModelFormats.open(Shared.model("stories260K/stories260K.bin"));
        WeightMatrix m = new Weights(ck, LoadOptions.of(StorageDtype.BF16)).matrix("blk.0.attn_q.weight", 64, 64);
        float[] row = new float[64];
        m.row(0, row);
        ck.close();
        assertThrows(IllegalStateException.class, () -> m.row(0, row));
    }

    @Test
    void routersAreNotQuantized() {
        try (Checkpoint ck = ModelFormats.open(Shared.model("gpt-oss-tiny-random/hf"))) {
            Weights w = new Weights(ck, Q8_0);
            w.matrixUnquantized("model.layers.0.mlp.router.weight", 8, 64);
            w.matrix("model.layers.0.self_attn.q_proj.weight", 512, 64);
            assertTrue(w.summary().contains("1 BF16") && w.summary().contains("1 Q8_0"), w.summary());
        }
    }
}
