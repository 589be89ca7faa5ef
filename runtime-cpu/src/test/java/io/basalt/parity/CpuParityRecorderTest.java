package io.basalt.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** parity run on the CPU backend, found by name as any backend is, against OpenAI's gpt-oss reference. */
class CpuParityRecorderTest {
    static final int[] S1 = ParityRecorderTest.S1;

    @TempDir
    Path dir;

    private Path prompts(String... lines) throws IOException { return ParityRecorderTest.prompts(dir, lines); }

    @Test
    void theCpuBackendMatchesTheGptOssReferenceWithinFp32Limits() {
        Path model = Shared.model("gpt-oss-tiny-random/hf");
        Path run = dir.resolve("cpu.safetensors");
        Path ref = dir.resolve("ref.safetensors");
        try {
            ParityRecorder.run(ParityRecorderTest.request(model, "cpu", "fp32", prompts("{\"tokens\": " + java.util.Arrays.toString(S1) + "}"), run, 0,
                    new LogitsMode.Full(), true), s -> { });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        LogitsImport.run(new LogitsImport.Request(Shared.reference("gpt-oss-tiny-random/S1_logits_fp32.f32"), 12, 1000, S1,
                Shared.reference("gpt-oss-tiny-random/S1_residual_after_each_block_fp32.f32"), 3, 64, "fp32", "openai/gpt-oss reference", ref));
        try (ParityDump a = ParityDump.open(ref); ParityDump b = ParityDump.open(run)) {
            Comparison c = ParityComparator.compare(a, b);
            assertEquals(12, c.comparedPositions());
            assertTrue(c.overall().maxAbs() <= 1e-3 && c.overall().maxAbs() > 0, "max |Δ| " + c.overall().maxAbs());
            assertEquals(1.0, c.overall().top1());
            assertTrue(c.hiddenCompared());
            assertEquals(3, c.layers().size());
            for (LayerStats l : c.layers()) assertTrue(l.relRms() < 1e-4, "layer rel RMS " + l.relRms());
            assertEquals(List.of(), Thresholds.defaults(Precision.FP32).check(c));
            assertNotEquals("", b.metadata().machine().get("cpu"));
        }
    }
}
