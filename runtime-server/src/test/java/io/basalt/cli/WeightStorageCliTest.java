package io.basalt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.SamplingParams;
import io.basalt.engine.EngineRequest;
import io.basalt.model.layout.LoadOptions;
import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --dtype and --quantize on generate, logits and serve. */
class WeightStorageCliTest {
    static final String STORIES = Shared.model("stories260K/stories260K.bin").toString();

    @Test
    void generateInBf16FollowsTheFp32GreedyText() throws IOException {
        // bf16 greedy matches llama2.c's fp32 ids for the first 185 tokens (StorageDriftTest); 100 are well inside.
        String expected = Files.readString(Shared.reference("stories260K/greedy_200.txt"));
        CliTest.Run r = CliTest.run("generate", "--model", STORIES, "--dtype", "bf16", "--max-tokens", "100", "--temperature", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().length() > 150 && expected.startsWith(r.out()), r.out());
        assertTrue(r.err().contains("dtype=bf16 quantize=none") && r.err().contains("generated 100 tokens"), r.err());
    }

    @Test
    void generateWithQ8_0Runs() {
        CliTest.Run r = CliTest.run("generate", "--model", STORIES, "--quantize", "q8_0", "--max-tokens", "20", "--temperature", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("quantize=q8_0") && r.err().contains("generated 20 tokens"), r.err());
    }

    @Test
    void logitsInF16StayNearTheReference(@TempDir Path dir) {
        Path out = dir.resolve("logits.f32");
        CliTest.Run r = CliTest.run("logits", "--model", Shared.model("gpt2-tiny-random/hf").toString(), "--dtype", "f16",
                "--tokens", "0,17,999,421,5,5,5,300,42,731,1,268", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        float[] expected = Shared.readF32(Shared.reference("gpt2-tiny-random/S1_logits_fp32.f32"));
        float[] got = Shared.readF32(out);
        float worst = 0;
        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(expected[i] - got[i]));
        assertTrue(worst > 0 && worst < 0.015, "max |Δlogit| " + worst); // StorageDriftTest measured 0.0072
    }

    @Test
    void anUnknownDtypeIsOneLineNamingIt() {
        for (String[] args : new String[][] {{"generate", "--model", STORIES, "--dtype", "fp8"},
                {"logits", "--model", STORIES, "--dtype", "fp8", "--tokens", "1", "--out", "unused.f32"}}) {
            CliTest.Run r = CliTest.run(args);
            assertEquals(2, r.exitCode(), args[0] + ": " + r.err());
            assertTrue(r.err().startsWith("basalt: unknown --dtype 'fp8'") && r.err().contains("bf16"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        CliTest.Run serve = CliTest.run("serve", STORIES, "--dtype", "fp8");
        assertEquals(2, serve.exitCode(), serve.err());
        assertTrue(serve.err().contains("unknown --dtype 'fp8'"), serve.err());
    }

    @Test
    void anUnknownQuantizationIsOneLineNamingIt() {
        CliTest.Run r = CliTest.run("generate", "--model", STORIES, "--quantize", "q4_k");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().startsWith("basalt: unknown --quantize 'q4_k'") && r.err().contains("q8_0"), r.err());
    }

    @Test
    void helpListsTheStorageOptions() {
        for (String command : new String[] {"generate", "logits", "serve"}) {
            CliTest.Run r = CliTest.run(command, "--help");
            assertEquals(0, r.exitCode());
            assertTrue(r.out().contains("--dtype") && r.out().contains("--quantize"), command + ": " + r.out());
        }
    }

    @Test
    void aServerLoadsItsWeightsAsAskedAndSaysSo() throws IOException {
        int[] reference = java.util.Arrays.stream(Files.readString(Shared.reference("stories260K/greedy_200_ids.txt")).trim()
                .split("\\s+")).limit(20).mapToInt(Integer::parseInt).toArray();
        ServeSettings s = ServeSettings.forTests(Path.of(STORIES)).withWeights(LoadOptions.parse("bf16", "none"));
        try (BasaltServer server = BasaltServer.start(s)) {
            assertTrue(server.readyLine().endsWith(", weights dtype=bf16 quantize=none"), server.readyLine());
            int[] ids = server.engine().submit(new EngineRequest("bf16", new int[] {1}, SamplingParams.greedy(20), 0))
                    .result().join().choices().getFirst().tokenIds();
            org.junit.jupiter.api.Assertions.assertArrayEquals(reference, ids);
        }
    }
}
