package io.basalt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading llama.cpp's benchmark output (as its tools print it), and the side-by-side lines. */
class LlamaCppPeerTest {
    static final String BATCHED = """
            main: n_kv_max = 4096, n_batch = 2048, n_ubatch = 512, flash_attn = -1, is_pp_shared = 0, n_gpu_layers = -1
            |    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |
            |-------|--------|------|--------|----------|----------|----------|----------|----------|----------|
            |    16 |     32 |    1 |     48 |    0.048 |   335.71 |    0.649 |    49.34 |    0.696 |    68.94 |
            |    16 |     32 |    2 |     96 |    0.074 |   433.56 |    0.714 |    89.59 |    0.788 |   121.81 |
            |    16 |     32 |   16 |    768 |    0.420 |   609.66 |    1.687 |   303.57 |    2.106 |   364.59 |

            llama_perf_context_print:        load time =     120.00 ms
            """;

    @Test void batchedBenchGivesDecodeByConcurrency() {
        assertEquals(Map.of(1, 49.34, 2, 89.59, 16, 303.57), LlamaCppPeer.parseBatched(BATCHED));
        assertThrows(IllegalStateException.class, () -> LlamaCppPeer.parseBatched("error: failed to load model\n"));
    }

    @Test void llamaBenchJsonGivesThePrefill() throws Exception {
        String json = "build: 3f545be\n[\n  {\"n_prompt\": 512, \"n_gen\": 0, \"avg_ts\": 947.5},\n  {\"n_prompt\": 0, \"n_gen\": 128, \"avg_ts\": 86.8}\n]\n";
        assertEquals(947.5, LlamaCppPeer.parsePrefill(json, 512));
        assertThrows(IllegalStateException.class, () -> LlamaCppPeer.parsePrefill(json, 128));
    }

    @Test void aDirectoryWithoutTheToolsIsAClearError(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaCppPeer.in(dir));
        assertTrue(e.getMessage().contains("llama-batched-bench"), e.getMessage());
    }

    @Test void sideBySideRatiosAreBasaltOverLlamaCpp() {
        LlamaCppPeer.Figures peer = new LlamaCppPeer.Figures(Map.of(1, 50.0, 2, 100.0), 400.0, "pp512", null);
        BenchReport.ModelResult r = new BenchReport.ModelResult("m", null, null, null, null, 0, null, null, null, null, null,
                new BenchReport.Decode(1, 32, 4, 1.0, 60.0, 1, null, null), new BenchReport.Prefill(512, 512, 512, 2, 1.0, 200.0, null),
                List.of(new BenchReport.Aggregate(2, 16, 32, 64, 1.0, 80.0, 20, null, null, 25, 24, 0)), null, null);
        List<String> lines = LlamaCppPeer.compare("m", peer, r);
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).strip().endsWith("1.20"), lines.get(0));   // 60 / 50
        assertTrue(lines.get(1).strip().endsWith("0.80"), lines.get(1));   // 80 / 100
        assertTrue(lines.get(2).strip().endsWith("0.50"), lines.get(2));   // 200 / 400
        assertTrue(LlamaCppPeer.compare("m", new LlamaCppPeer.Figures(Map.of(), null, null, "not GGUF"), r).getFirst().contains("not GGUF"));
    }
}
