package io.basalt.model.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.basalt.model.DType;
import io.basalt.spi.Architecture;
import io.basalt.spi.ModelSpec;
import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;

/** The KV shape every backend sizes its pool from, and the one error a budget too small gets. */
class KvGeometryTest {

    @Test
    void bytesPerTokenCountKeysAndValuesInEveryLayer() {
        KvGeometry g = new KvGeometry(5, 4, 8);
        assertEquals(32, g.kvDim());
        assertEquals(2L * 5 * 32 * 4, g.bytesPerToken(DType.F32));
        assertEquals(2L * 5 * 32 * 2, g.bytesPerToken(DType.F16));
        assertEquals(2L * 5 * 34, g.bytesPerToken(DType.Q8_0)); // one 32-element block per layer
        assertThrows(IllegalArgumentException.class, () -> new KvGeometry(5, 1, 8).bytesPerToken(DType.Q8_0));
        assertThrows(IllegalArgumentException.class, () -> new KvGeometry(0, 4, 8));
    }

    @Test
    void aBudgetHoldsWholeBlocksAndNoneIsOneClearError() {
        KvGeometry g = new KvGeometry(5, 4, 8); // 1280 bytes per fp32 position, 20480 per block of 16
        assertEquals(1, g.numBlocks(20480, 16, DType.F32));
        assertEquals(51, g.numBlocks(1L << 20, 16, DType.F32));
        assertEquals(102, g.numBlocks(1L << 20, 16, DType.F16));
        assertEquals(Integer.MAX_VALUE / 2, g.numBlocks(Long.MAX_VALUE, 16, DType.F32));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.numBlocks(20479, 16, DType.F32));
        assertEquals("--kv-cache-memory of 20479 bytes holds no KV block; one block of 16 positions needs 20480", e.getMessage());
    }

    @Test
    void eachLayoutGivesItsGeometryAndTheSpecItsCost() {
        // stories260K: 5 layers, 8 heads of 8 over 4 KV heads; gpt2-tiny: 2 layers, 4 heads of 16 (no grouping);
        // gpt-oss-tiny: 3 layers, 2 KV heads of 64 (sliding layers the same)
        assertEquals(new KvGeometry(5, 4, 8), ModelInfo.describe(Shared.model("stories260K/stories260K.bin")).kv());
        assertEquals(new KvGeometry(2, 4, 16), ModelInfo.describe(Shared.model("gpt2-tiny-random/hf")).kv());
        assertEquals(new KvGeometry(2, 4, 16), ModelInfo.describe(Shared.model("gpt2-tiny-random/llmc/gpt2_tiny_random.bin")).kv());
        assertEquals(new KvGeometry(3, 2, 64), ModelInfo.describe(Shared.model("gpt-oss-tiny-random/hf")).kv());
        assertEquals(new KvGeometry(3, 2, 64), ModelInfo.describe(Shared.model("gpt-oss-tiny-random/original")).kv());
        ModelInfo info = ModelInfo.describe(Shared.model("stories260K/stories260K.bin"));
        assertEquals(new ModelSpec(Architecture.LLAMA, 512, 512, 5, 64, 2L * 4 * 32 * 5), info.spec(DType.F32));
        assertEquals(2L * 2 * 32 * 5, info.spec(DType.F16).kvBytesPerToken());
    }
}
