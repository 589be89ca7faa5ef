package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.spi.Backend;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

/**
 * The context an engine serves: a KV cache that cannot hold one whole context is refused at start with what it
 * would take (memory, or a shorter --max-model-len), never accepted to end generations early as "length".
 */
class ServedContextTest {
    static CpuModelRunner runner(long kvBytes) {
        return new CpuBackend().load(Shared.model("stories260K/stories260K.bin"), new Backend.LoadConfig(kvBytes, 4, 256));
    }

    static Tokenizer tokenizer(CpuModelRunner r) { return ModelTokenizer.forModel(r.model().info(), null); }

    @Test
    void aKvCacheSmallerThanOneContextIsRefusedWithWhatItNeeds() {
        // stories260K: 512 positions, 1280 KV bytes a token (5 layers × 64 kv dims × keys and values × fp32).
        try (CpuModelRunner r = runner(40 << 10)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Engine(r, tokenizer(r), new EngineConfig(4, 256, 40 << 10, true)));
            String m = e.getMessage();
            assertTrue(m.contains("holds 32 tokens") && m.contains("one full context of 512 tokens"), m);
            assertTrue(m.contains("640.0KiB") && m.contains("--kv-cache-memory"), m);
            assertTrue(m.contains("--max-model-len to 32 or less"), m);
        }
    }

    @Test
    void aShorterMaxModelLenFitsAndBoundsGeneration() {
        CpuModelRunner r = runner(40 << 10);
        try (Engine engine = new Engine(r, tokenizer(r), new EngineConfig(4, 256, 40 << 10, true, 32))) { // closes the runner
            assertEquals(32, engine.maxModelLen());
            RequestHandle h = engine.submit(new EngineRequest("a", new int[] {1, 403, 407},
                    SamplingParams.builder().temperature(0).maxTokens(100).ignoreEos(true).build(), 0));
            engine.runUntilIdle();
            RequestHandle.Result result = h.result().join();
            assertEquals(FinishReason.LENGTH, result.choices().getFirst().finishReason());
            assertEquals(32 - 3, result.numGeneratedTokens());
            // Its timeline: queued, scheduled, first and last token, in that order.
            RequestHandle.Timeline t = result.timeline();
            assertTrue(t.queuedNanos() > 0 && t.queuedNanos() <= t.scheduledNanos() && t.scheduledNanos() <= t.firstTokenNanos()
                    && t.firstTokenNanos() <= t.lastTokenNanos(), t.toString());
            assertTrue(t.decodeSeconds() >= 0 && t.queueSeconds() >= 0, t.toString());
        }
    }

    @Test
    void aMaxModelLenBeyondTheModelIsAnError() {
        try (CpuModelRunner r = runner(8 << 20)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Engine(r, tokenizer(r), new EngineConfig(4, 256, 8 << 20, true, 1000)));
            assertTrue(e.getMessage().contains("--max-model-len 1000") && e.getMessage().contains("512"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new EngineConfig(4, 256, 1 << 20, true, 1));
        assertThrows(IllegalArgumentException.class, () -> new EngineConfig(4, 256, 1 << 20, true, -5));
    }

    @Test
    void sizesForPeopleNeverRoundBelowTheValue() {
        assertEquals("512B", Bytes.describe(512));
        assertEquals("40.0KiB", Bytes.describe(40 << 10));
        assertEquals("640.0KiB", Bytes.describe(640 << 10));
        assertEquals("1.1KiB", Bytes.describe(1025)); // 1.0009… KiB: rounded up, so typing it back is enough
        assertEquals("2.0GiB", Bytes.describe(2L << 30));
    }

    @Test
    void theEngineAndTheBackendSayWhatTheyChose() {
        java.util.logging.Logger cpu = java.util.logging.Logger.getLogger("basalt.cpu");
        java.util.List<String> said = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler h = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) { said.add(r.getMessage()); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        cpu.addHandler(h);
        try (CpuModelRunner r = runner(1 << 20)) {
            // 1 MiB / (16 tokens × 1280 bytes) = 51 blocks.
            assertEquals("KV cache 1020.0KiB: 51 blocks of 16 tokens = 816 tokens, 1 full context(s) of 512; prefix caching off; "
                    + "up to 8 sequences and 256 tokens a step", Engine.describe(r, new EngineConfig(8, 256, 1 << 20, false), 512));
        } finally {
            cpu.removeHandler(h);
        }
        String load = String.join("\n", said);
        assertTrue(load.contains("cpu backend: llama (llama2c)") && load.contains("context 512") && load.contains(" kernel threads")
                && load.contains("-bit vectors") && load.contains("loaded in"), load);
    }
}
