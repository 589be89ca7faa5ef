package io.basalt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.backend.Backends;
import io.basalt.parity.ParityDump;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6's acceptance through the harness, as a user runs it: {@code parity run} on the cpu and the
 * torch backend (fp32), then {@code parity compare} with the acceptance bounds as thresholds.
 * Skips where libtorch is not available.
 */
class TorchParityCliTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void torchAvailable() {
        boolean available = Backends.isAvailable("torch");
        Assumptions.assumeTrue(available, "the torch backend (libtorch) is not available here");
    }

    static Path record(String name, String model, String backend, Path prompts, int maxTokens) {
        Path out = dir.resolve(name + "-" + backend + ".safetensors");
        CliTest.Run r = CliTest.run("parity", "run", "--model", Shared.model(model).toString(), "--backend", backend, "--dtype", "fp32",
                "--prompts", prompts.toString(), "--max-tokens", Integer.toString(maxTokens), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        return out;
    }

    static CliTest.Run compare(Path a, Path b, String maxAbs) {
        return CliTest.run("parity", "compare", a.toString(), b.toString(), "--threshold", "max_abs=" + maxAbs);
    }

    @Test
    void stories260kGreedy200IsIdenticalAndLogitsAgreeTo1e4() throws IOException {
        Path prompts = Files.writeString(dir.resolve("bos.jsonl"), "{\"tokens\": [1]}\n");
        Path cpu = record("stories", "stories260K/stories260K.bin", "cpu", prompts, 200);
        Path torch = record("stories", "stories260K/stories260K.bin", "torch", prompts, 200);
        CliTest.Run r = compare(cpu, torch, "1e-4");
        assertEquals(0, r.exitCode(), r.out());
        assertTrue(r.out().contains("0 excluded after the greedy outputs diverged"), r.out());

        int[] expected = Arrays.stream(Files.readString(Shared.reference("stories260K/greedy_200_ids.txt")).trim().split("\\s+"))
                .mapToInt(Integer::parseInt).toArray();
        try (ParityDump d = ParityDump.open(torch)) {
            int[] tokens = d.tokens(0);
            assertArrayEquals(expected, Arrays.copyOfRange(tokens, 1, 1 + expected.length), "torch greedy vs llama2.c");
        }
    }

    @Test
    void gpt2AndGptOssS1AgreeWithinTheirBounds() throws IOException {
        Path s1 = Files.writeString(dir.resolve("s1.jsonl"), "{\"tokens\": [" + ParityCliTest.S1 + "]}\n");
        CliTest.Run gpt2 = compare(record("gpt2", "gpt2-tiny-random/hf", "cpu", s1, 8), record("gpt2", "gpt2-tiny-random/hf", "torch", s1, 8), "1e-4");
        assertEquals(0, gpt2.exitCode(), gpt2.out());
        CliTest.Run oss = compare(record("oss", "gpt-oss-tiny-random/hf", "cpu", s1, 8), record("oss", "gpt-oss-tiny-random/hf", "torch", s1, 8), "1e-3");
        assertEquals(0, oss.exitCode(), oss.out());
        // and a bound the drift cannot meet fails, so the passes above are not vacuous
        CliTest.Run tight = compare(dir.resolve("oss-cpu.safetensors"), dir.resolve("oss-torch.safetensors"), "1e-9");
        assertEquals(1, tight.exitCode(), tight.out());
    }
}
