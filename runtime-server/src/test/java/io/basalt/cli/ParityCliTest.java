package io.basalt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** basalt parity run / import-logits / compare end to end, in-process, with the CPU backend and the peer reference files. */
class ParityCliTest {
    static final String S1 = "0,17,999,421,5,5,5,300,42,731,1,268";

    @TempDir
    static Path dir;
    static Path ossFp32;
    static Path peerFp32;
    static Path peerBf16;
    static Path storiesFp32;
    static Path storiesBf16;

    static CliTest.Run run(String... args) { return CliTest.run(args); }

    static Path ok(CliTest.Run r, Path out) {
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.isRegularFile(out), r.err());
        return out;
    }

    @BeforeAll
    static void recordDumps() throws IOException {
        Path s1 = Files.writeString(dir.resolve("s1.jsonl"), "{\"tokens\": [" + S1 + "]}\n");
        CliTest.Run oss = run("parity", "run", "--model", Shared.model("gpt-oss-tiny-random/hf").toString(), "--dtype", "fp32",
                "--prompts", s1.toString(), "--max-tokens", "0", "--out", dir.resolve("oss.safetensors").toString());
        ossFp32 = ok(oss, dir.resolve("oss.safetensors"));
        assertTrue(oss.err().matches("(?s).*, model hash sha256:[0-9a-f]{64}, in .*"), "the hash is labelled: " + oss.err());
        String ref = "gpt-oss-tiny-random/";
        peerFp32 = ok(run("parity", "import-logits", "--logits", Shared.reference(ref + "S1_logits_fp32.f32").toString(), "--shape", "12,1000",
                "--tokens", S1, "--hidden", Shared.reference(ref + "S1_residual_after_each_block_fp32.f32").toString(), "--hidden-shape", "3,12,64",
                "--dtype", "fp32", "--source", "openai/gpt-oss torch reference, fp32", "--out", dir.resolve("peer32.safetensors").toString()),
                dir.resolve("peer32.safetensors"));
        peerBf16 = ok(run("parity", "import-logits", "--logits", Shared.reference(ref + "S1_logits_bf16.f32").toString(), "--shape", "12,1000",
                "--tokens", S1, "--dtype", "bf16", "--source", "openai/gpt-oss torch reference, bf16",
                "--out", dir.resolve("peer16.safetensors").toString()), dir.resolve("peer16.safetensors"));
        // stories260K: from BOS (llama2.c's greedy text), and S1 mod 512; 199 greedy tokens each (200 positions from BOS)
        Path stories = Files.writeString(dir.resolve("stories.jsonl"), "{\"prompt\": \"\"}\n{\"tokens\": [0, 17, 487, 421, 5, 5, 5, 300, 42, 219, 1, 268]}\n");
        String model = Shared.model("stories260K/stories260K.bin").toString();
        storiesFp32 = ok(run("parity", "run", "--model", model, "--dtype", "fp32", "--prompts", stories.toString(), "--max-tokens", "199",
                "--out", dir.resolve("st32.safetensors").toString()), dir.resolve("st32.safetensors"));
        storiesBf16 = ok(run("parity", "run", "--model", model, "--dtype", "bf16", "--prompts", stories.toString(), "--max-tokens", "199",
                "--out", dir.resolve("st16.safetensors").toString()), dir.resolve("st16.safetensors"));
    }

    @Test
    void cpuFp32MatchesThePeerFp32ReferenceLogitsAndResiduals() {
        CliTest.Run r = run("parity", "compare", peerFp32.toString(), ossFp32.toString());
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("thresholds: fp32 defaults (the less precise dump's)"), r.out());
        assertTrue(r.out().contains("Per layer (hidden state after each block"), r.out());
        assertTrue(r.out().contains("PASS: every metric is within the thresholds"), r.out());
    }

    @Test
    void cpuFp32AgainstThePeerBf16ReferenceReportsTheDriftAndFailsATightThreshold() {
        CliTest.Run loose = run("parity", "compare", ossFp32.toString(), peerBf16.toString());
        assertEquals(0, loose.exitCode(), "the bf16 defaults allow bf16 compute drift: " + loose.out());
        assertTrue(loose.out().lines().anyMatch(l -> l.matches("\\s+max_abs\\s+max \\|Δlogit\\|\\s+1\\.047\\s+≤ 2\\s+ok")), loose.out());
        assertTrue(loose.out().contains("hidden states: not compared: B has no hidden states"), loose.out());

        CliTest.Run tight = run("parity", "compare", ossFp32.toString(), peerBf16.toString(), "--threshold", "max_abs=0.1");
        assertEquals(1, tight.exitCode(), tight.out());
        assertTrue(tight.out().contains("FAIL: 1 metric(s) past the thresholds:\n  max_abs = 1.047 > 0.1 (max |Δlogit|)"), tight.out());

        CliTest.Run fp32 = run("parity", "compare", ossFp32.toString(), peerBf16.toString(), "--dtype-defaults", "fp32");
        assertEquals(1, fp32.exitCode(), fp32.out());
        assertTrue(fp32.out().contains("min_top1 = 0.8333 < 0.99"), fp32.out());
    }

    @Test
    void cpuBf16AgainstCpuFp32ShowsTheDriftPerLayerAndPassesOnlyTheBf16Defaults() throws IOException {
        Path md = dir.resolve("st.md");
        Path html = dir.resolve("st.html");
        CliTest.Run bf16 = run("parity", "compare", storiesFp32.toString(), storiesBf16.toString(), "--markdown", md.toString(),
                "--report", html.toString());
        assertEquals(0, bf16.exitCode(), bf16.out());
        assertTrue(bf16.out().contains("thresholds: bf16 defaults (the less precise dump's)"), bf16.out());
        for (int layer = 0; layer < 5; layer++) {
            final int l = layer;
            assertTrue(bf16.out().lines().anyMatch(s -> s.matches("\\s+" + l + "\\s+\\S+\\s+\\S+\\s+\\S+")), "layer " + l + " row: " + bf16.out());
        }
        // From BOS, bf16 storage keeps llama2.c's greedy text (docs/ARCHITECTURE.md); the 12-token prompt diverges
        assertTrue(bf16.out().lines().anyMatch(l -> l.matches("\\s+0\\s+\"\"\\s+none\\s+200\\s+0\\s.*")), bf16.out());
        assertTrue(bf16.out().lines().anyMatch(l -> l.matches("\\s+1\\s+12 tokens\\s+position \\d+ \\(after \\d+ identical generated tokens\\).*")), bf16.out());
        assertTrue(bf16.out().matches("(?s).*compared \\d+ positions in 2 prompt\\(s\\); [1-9]\\d* excluded after the greedy outputs diverged.*"), bf16.out());
        assertTrue(Files.readString(md).contains("### Per layer"));
        String page = Files.readString(html);
        assertTrue(page.contains("<svg") && page.contains("Hidden-state drift per layer") && page.contains("Logit drift per position"));

        CliTest.Run fp32 = run("parity", "compare", storiesFp32.toString(), storiesBf16.toString(), "--dtype-defaults", "fp32");
        assertEquals(1, fp32.exitCode(), fp32.out());
        assertTrue(fp32.out().contains("max_hidden_rel_rms = "), fp32.out());
        CliTest.Run tight = run("parity", "compare", storiesFp32.toString(), storiesBf16.toString(), "--threshold", "max_hidden_rel_rms=1e-3");
        assertEquals(1, tight.exitCode(), tight.out());

        CliTest.Run same = run("parity", "compare", storiesFp32.toString(), storiesFp32.toString());
        assertEquals(0, same.exitCode(), same.out());
    }

    @Test
    void gpt2MatchesLlmcReference() {
        Path prompts = dir.resolve("g2.jsonl");
        CliTest.Run r = run("parity", "import-logits", "--logits", Shared.reference("gpt2-tiny-random/S1_logits_fp32.f32").toString(),
                "--shape", "12,1000", "--tokens", S1, "--source", "karpathy/llm.c train_gpt2.c", "--out", dir.resolve("llmc.safetensors").toString());
        assertEquals(0, r.exitCode(), r.err());
        try {
            Files.writeString(prompts, "{\"tokens\": [" + S1 + "]}\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ok(run("parity", "run", "--model", Shared.model("gpt2-tiny-random/llmc/gpt2_tiny_random.bin").toString(), "--prompts", prompts.toString(),
                "--max-tokens", "4", "--logits", "topk:20", "--hidden", "none", "--out", dir.resolve("g2.safetensors").toString()), dir.resolve("g2.safetensors"));
        CliTest.Run c = run("parity", "compare", dir.resolve("llmc.safetensors").toString(), dir.resolve("g2.safetensors").toString());
        assertEquals(0, c.exitCode(), c.out());
        assertTrue(c.out().contains("top-k dump: logit errors, cosine and KL cover the stored top-k ids only"), c.out());
        assertTrue(c.out().contains("A has 12 positions, B 16; compared the common 12"), c.out());
    }

    @Test
    void anyBackendByNameWorksThroughTheSpi() throws IOException {
        Path prompts = Files.writeString(dir.resolve("fake.jsonl"), "{\"tokens\": [1, 2, 3]}\n{\"tokens\": [7]}\n");
        Path model = Files.writeString(dir.resolve("fake-model.bin"), "weights");
        Path a = ok(run("parity", "run", "--backend", "parity-fake", "--model", model.toString(), "--prompts", prompts.toString(),
                "--max-tokens", "30", "--out", dir.resolve("fa.safetensors").toString()), dir.resolve("fa.safetensors"));
        Path b = ok(run("parity", "run", "--backend", "parity-fake", "--dtype", "bf16", "--model", model.toString(), "--prompts", prompts.toString(),
                "--max-tokens", "30", "--out", dir.resolve("fb.safetensors").toString()), dir.resolve("fb.safetensors"));
        CliTest.Run c = run("parity", "compare", a.toString(), b.toString(), "--threshold", "max_abs=1e-6");
        assertEquals(1, c.exitCode(), c.out());
        assertTrue(c.out().contains("B: " + b + " — parity-fake dtype=bf16"), c.out());
        assertTrue(c.out().contains("max_abs = "), c.out());
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws IOException {
        Path raw = Shared.reference("gpt-oss-tiny-random/S1_logits_fp32.f32");
        expectBadInput(run("parity", "compare", dir.resolve("missing.safetensors").toString(), ossFp32.toString()), "missing.safetensors: no such file");
        expectBadInput(run("parity", "compare", raw.toString(), ossFp32.toString()), "not a parity dump");
        expectBadInput(run("parity", "compare", ossFp32.toString(), storiesFp32.toString()), "different vocabularies (A 1000, B 512)");
        Path other = dir.resolve("other.safetensors");
        ok(run("parity", "import-logits", "--logits", raw.toString(), "--shape", "12,1000", "--tokens", "0,17,999,421,5,5,5,300,42,731,1,269",
                "--source", "x", "--out", other.toString()), other);
        expectBadInput(run("parity", "compare", ossFp32.toString(), other.toString()), "different prompt tokens at position 11 (A 268, B 269)");
        expectBadInput(run("parity", "compare", ossFp32.toString(), peerFp32.toString(), "--threshold", "max_err=1"), "unknown threshold 'max_err'");
        expectBadInput(run("parity", "compare", ossFp32.toString(), peerFp32.toString(), "--dtype-defaults", "fp8"), "unknown precision 'fp8'");
        assertEquals(2, run("parity", "compare", ossFp32.toString()).exitCode());

        Path prompts = Files.writeString(dir.resolve("p.jsonl"), "{\"tokens\": [1]}\n");
        String model = Shared.model("stories260K/stories260K.bin").toString();
        Path out = dir.resolve("never.safetensors");
        expectBadInput(run("parity", "run", "--model", model, "--prompts", prompts.toString(), "--logits", "topk:2", "--out", out.toString()),
                "--logits topk:K needs K >= 5");
        expectBadInput(run("parity", "run", "--model", model, "--prompts", prompts.toString(), "--hidden", "some", "--out", out.toString()),
                "unknown --hidden 'some'");
        expectBadInput(run("parity", "run", "--model", model, "--prompts", prompts.toString(), "--backend", "nope", "--out", out.toString()),
                "unknown backend 'nope'");
        expectBadInput(run("parity", "run", "--model", model, "--prompts", dir.resolve("none.jsonl").toString(), "--out", out.toString()),
                "none.jsonl: no such file");
        expectBadInput(run("parity", "run", "--model", model, "--prompts", prompts.toString(), "--dtype", "fp64", "--out", out.toString()),
                "unknown --dtype 'fp64'");
        assertFalse(Files.exists(out));

        expectBadInput(run("parity", "import-logits", "--logits", raw.toString(), "--shape", "12,999", "--tokens", S1, "--source", "x",
                "--out", out.toString()), "has 48000 bytes; the shape needs 11988 float32 values");
        expectBadInput(run("parity", "import-logits", "--logits", raw.toString(), "--shape", "12,1000", "--tokens", "1,2", "--source", "x",
                "--out", out.toString()), "--tokens has 2 ids but --shape says 12 positions");
        expectBadInput(run("parity", "import-logits", "--logits", raw.toString(), "--shape", "12,1000", "--tokens", S1, "--source", "x",
                "--hidden", raw.toString(), "--out", out.toString()), "--hidden and --hidden-shape go together");
        assertFalse(Files.exists(out));
    }

    private static void expectBadInput(CliTest.Run r, String message) {
        assertEquals(2, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().startsWith("basalt: ") && r.err().contains(message), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
