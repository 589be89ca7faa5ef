package io.basalt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.basalt.backend.cpu.model.KvCache;
import io.basalt.backend.cpu.model.Llama;
import io.basalt.backend.cpu.model.Model;
import io.basalt.backend.cpu.model.ModelLoader;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormats;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The analytic bytes/FLOP accounting, the synthetic Llama writer, and option parsing; no timing. */
class BenchAccountingTest {
    private static final ModelShape LLAMA_1B =
            new ModelShape(ModelShape.Kind.LLAMA, 22, 2048, 2048, 256, 5632, 32000, 2048);
    private static final ModelShape GPT2_124M =
            new ModelShape(ModelShape.Kind.GPT2, 12, 768, 768, 768, 3072, 50257, 1024);

    @Test
    void llama1bMatricesBytesAndFlops() {
        long perLayer = 2048L * 2048 * 2 + 2 * 2048L * 256 + 3 * 2048L * 5632; // q, o; k, v; gate, up, down
        assertEquals(44_040_192, perLayer);
        assertEquals(22 * perLayer + 32000L * 2048, LLAMA_1B.matrixParams());
        assertEquals(1_034_420_224L, LLAMA_1B.matrixParams());

        // bf16: every matrix at 2 bytes, 45 RMSNorm scales of 2048 fp32, one bf16 embedding row
        assertEquals(1_034_420_224L * 2 + (22 * 2 + 1) * 2048L * 4 + 2048 * 2, LLAMA_1B.weightBytesPerToken(2), 0);
        // q8_0: 34 bytes per 32 parameters
        assertEquals(1_034_420_224L * 34 / 32.0 + 45 * 2048 * 4 + 2048 * 34 / 32.0, LLAMA_1B.weightBytesPerToken(34 / 32.0), 1e-3);
        // KV: fp32 K and V, 22 layers × 4 KV heads × 64, per attended position
        assertEquals(2.0 * 22 * 256 * 4 * 100, LLAMA_1B.kvBytes(100), 0);
        assertEquals(LLAMA_1B.weightBytesPerToken(2) + LLAMA_1B.kvBytes(100), LLAMA_1B.decodeBytesPerToken(2, 100), 0);

        assertEquals(2.0 * 1_034_420_224L + 4.0 * 22 * 2048 * 10, LLAMA_1B.decodeFlopsPerToken(10), 0);
        // prefill of 512 from an empty cache: layers for every token, the lm_head once, causal attention
        double prefill = 2.0 * 22 * perLayer * 512 + 2.0 * 32000 * 2048 + 4.0 * 22 * 2048 * (512 * 513 / 2.0);
        assertEquals(prefill, LLAMA_1B.prefillFlops(512), 1);
        assertTrue(prefill > 1.0e12 && prefill < 1.1e12, "about a TFLOP: " + prefill);
    }

    @Test
    void gpt2MatricesAndVectors() {
        assertEquals(12 * 12 * 768L * 768, 12 * GPT2_124M.layerMatrixParams());
        assertEquals(12 * 12 * 768L * 768 + 50257L * 768, GPT2_124M.matrixParams());
        // per block: 2 LayerNorms (w, b), biases of qkv (3C), proj (C), fc (4C), fc proj (C); final LayerNorm
        assertEquals(12 * 13 * 768L + 2 * 768, GPT2_124M.vectorParams());
        // fp32, token + position rows
        assertEquals(GPT2_124M.matrixParams() * 4.0 + GPT2_124M.vectorParams() * 4.0 + 2 * 768 * 4,
                GPT2_124M.weightBytesPerToken(4), 0);
        assertEquals(2.0 * 12 * 768 * 4 * 7, GPT2_124M.kvBytes(7), 0);
    }

    @Test
    void syntheticLlamaLoadsWithItsShape(@TempDir Path dir) throws Exception {
        var shape = new SyntheticLlama.Shape(64, 2, 4, 2, 160, 256, 128, 10000, 1e-5);
        Path model = dir.resolve("tiny");
        SyntheticLlama.write(model, shape, 7);

        try (Checkpoint checkpoint = ModelFormats.open(model)) {
            assertEquals(2 + 9 * 2 + 1, checkpoint.tensors().size());
            long elements = 0;
            for (TensorInfo t : checkpoint.tensors().values()) {
                assertEquals(DType.BF16, t.dtype(), t.name());
                elements += t.numElements();
            }
            Path file = model.resolve("model.safetensors");
            long headerLength = java.nio.ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8);
            assertEquals(8 + headerLength + 2 * elements, Files.size(file)); // bf16: 2 bytes per parameter, nothing else
            assertEquals("llama", checkpoint.metadata().get("model_type"));
        }

        try (Model loaded = ModelLoader.load(model)) {
            Llama llama = assertInstanceOf(Llama.class, loaded);
            LlamaConfig c = llama.config();
            assertEquals(List.of(2, 64, 160, 4, 2, 256, 128), List.of(c.numLayers(), c.hiddenSize(), c.intermediateSize(),
                    c.numHeads(), c.numKvHeads(), c.vocabSize(), c.maxPositions()));
            assertEquals(1e-5f, c.eps());
            ModelShape s = ModelShape.of(loaded);
            assertEquals(new ModelShape(ModelShape.Kind.LLAMA, 2, 64, 64, 32, 160, 256, 128), s);
            // the loader's parameter count = our matrices (lm_head included) + the untied input table + norm scales
            assertEquals(loaded.info().numParameters(), s.matrixParams() + 256L * 64 + s.vectorParams());

            KvCache cache = loaded.newCache();
            float[][] logits = loaded.forward(cache, new int[] {1, 17, 42, 99}, Model.Logits.ALL);
            assertEquals(4, logits.length);
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (float[] row : logits) {
                assertEquals(256, row.length);
                for (float v : row) {
                    assertTrue(Float.isFinite(v));
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
            assertTrue(max > min, "random weights give distinct logits");
        }
    }

    @Test
    void childMeasuresEveryFigureOnATinyModel(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny");
        SyntheticLlama.write(model, new SyntheticLlama.Shape(64, 2, 4, 2, 160, 256, 128, 10000, 1e-5), 7);
        var spec = new BenchChild.Spec("tiny", model.toString(), "auto", "none", 3, List.of(2, 4), 20, 0, 0, 60);
        BenchReport.ModelResult r = BenchChild.measure(spec);
        assertEquals(null, r.error());
        assertEquals("bf16", r.storage());
        assertEquals(2.0, r.bytesPerParam());
        ModelShape shape = new ModelShape(ModelShape.Kind.LLAMA, 2, 64, 64, 32, 160, 256, 128);
        assertEquals(shape.matrixParams(), r.matrixParams());
        assertTrue(r.ttftSeconds() > 0 && r.loadSeconds() > 0);
        if (Files.exists(Path.of("/proc/self/stat"))) { // Linux: a count, and the process's own (it only grows)
            assertTrue(r.ttftDiskFaults() != null && r.ttftDiskFaults() >= 0 && r.ttftDiskFaults() <= BenchChild.diskFaults());
        }

        BenchReport.Decode d = r.decode();
        assertEquals(3, d.stepsPerRound());
        assertEquals(BenchChild.DECODE_PROMPT + 2, d.ctxAvg()); // steps attend 9, 10, 11 positions
        assertEquals(shape.decodeBytesPerToken(2, d.ctxAvg()), d.bytesPerToken());
        assertTrue(d.tokPerSec() > 0);

        assertEquals(20, r.prefill().tokens());
        assertEquals(shape.prefillFlops(20), r.prefill().flops());

        assertEquals(List.of(2, 4), r.aggregate().stream().map(BenchReport.Aggregate::concurrency).toList());
        for (BenchReport.Aggregate a : r.aggregate()) {
            assertEquals((long) a.steps() * a.concurrency(), a.generated(), "one token per sequence per step");
            assertTrue(a.steps() >= 2);
            assertEquals(shape.decodeFlopsPerToken(a.ctxAvg()), a.flopsPerToken());
            assertEquals(shape.weightBytesPerToken(2) + a.concurrency() * shape.kvBytes(a.ctxAvg()), a.bytesPerStep(), 1e-6);
        }
        assertTrue(r.peakRssBytes() == null || r.peakRssBytes() > 0);

        // the parent reads the child's line back
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertEquals(r, json.readValue(json.writeValueAsString(r), BenchReport.ModelResult.class));

        // the q8_0 request is labelled with its storage (34 bytes per 32 parameters)
        var q8 = BenchChild.measure(new BenchChild.Spec("tiny-q8", model.toString(), "auto", "q8_0", 2, List.of(), 8, 0, 0, 60));
        assertEquals(null, q8.error());
        assertEquals("q8_0", q8.storage());
        assertEquals(34 / 32.0, q8.bytesPerParam());
    }

    @Test
    void syntheticLlamaIsDeterministic(@TempDir Path dir) throws Exception {
        var shape = new SyntheticLlama.Shape(32, 1, 2, 1, 48, 64, 32, 10000, 1e-5);
        SyntheticLlama.write(dir.resolve("a"), shape, 3);
        SyntheticLlama.write(dir.resolve("b"), shape, 3);
        SyntheticLlama.write(dir.resolve("c"), shape, 4);
        assertEquals(-1, Files.mismatch(dir.resolve("a/model.safetensors"), dir.resolve("b/model.safetensors")));
        assertTrue(Files.mismatch(dir.resolve("a/model.safetensors"), dir.resolve("c/model.safetensors")) >= 0);
    }

    @Test
    void shapeOfTheSharedTinyGpt2MatchesTheLoadersCount() {
        Path shared = SharedDir.find();
        assumeTrue(shared != null, "shared fixtures not found");
        try (Model model = ModelLoader.load(shared.resolve("models/gpt2-tiny-random/llmc/gpt2_tiny_random.bin"))) {
            ModelShape s = ModelShape.of(model);
            assertEquals(new ModelShape(ModelShape.Kind.GPT2, 2, 64, 64, 64, 256, 1000, 64), s);
            // tied: the lm_head is the token table; plus the position table
            assertEquals(model.info().numParameters(), s.matrixParams() + 64L * 64 + s.vectorParams());
        }
    }

    @Test
    void bf16AndNormalish() {
        assertEquals((short) 0x3F80, SyntheticLlama.bf16(1f));
        assertEquals((short) 0xBF80, SyntheticLlama.bf16(-1f));
        assertEquals(1f, Float.intBitsToFloat(SyntheticLlama.bf16(1.001f) << 16)); // rounds to the nearest bf16
        assertEquals(1.0078125f, Float.intBitsToFloat(SyntheticLlama.bf16(1.006f) << 16));
        SplittableRandom random = new SplittableRandom(1);
        double sum = 0, sq = 0;
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            double x = SyntheticLlama.normalish(random);
            sum += x;
            sq += x * x;
        }
        assertEquals(0, sum / n, 0.01);
        assertEquals(1, Math.sqrt(sq / n), 0.01);
    }

    @Test
    void options() {
        Bench.Options full = Bench.Options.parse(new String[0]);
        assertEquals(Bench.DEFAULT_MODELS, full.models());
        assertEquals(List.of(4, 16, 64), full.concurrency());
        assertEquals(512, full.prompt());
        assertEquals(32, full.steps());
        Bench.Options quick = Bench.Options.parse(new String[] {"--quick", "--models", "gpt2, stories260k", "--steps", "5"});
        assertEquals(List.of("gpt2", "stories260k"), quick.models());
        assertEquals(List.of(4, 16), quick.concurrency());
        assertEquals(5, quick.steps());
        assertEquals(128, quick.prompt());
        assertThrows(IllegalArgumentException.class, () -> Bench.Options.parse(new String[] {"--concurrency", "4,0"}));
        assertThrows(IllegalArgumentException.class, () -> Bench.Options.parse(new String[] {"--steps"}));
        assertThrows(IllegalArgumentException.class, () -> Bench.Options.parse(new String[] {"--bogus"}));
    }

    @Test
    void probeKernelsComputeWhatTheyClaim() {
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var a = arena.allocate(8192, 64);
            var b = arena.allocate(8192, 64);
            var c = arena.allocate(8192, 64);
            for (int i = 0; i < 2048; i++) {
                b.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, i % 7);
                c.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 2);
            }
            assertEquals(sumMod7(2048), MachineProbes.sum(b, 0, 8192), 0);
            MachineProbes.triad(a, b, c, 0.5f, 4096, 8192);
            assertEquals(0f, a.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 1023));
            assertEquals(1024 % 7 + 1f, a.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 1024));
        }
        assertTrue(Float.isFinite(MachineProbes.fma(100_000, 3)));
        long covered = 0;
        for (int t = 0; t < 3; t++) {
            long[] r = MachineProbes.share(1L << 20, t, 3);
            assertEquals(covered, r[0]);
            assertEquals(0, r[0] % 4096);
            covered = r[1];
        }
        assertEquals(1L << 20, covered);
    }

    private static float sumMod7(int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += i % 7;
        return s;
    }
}
