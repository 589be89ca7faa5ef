package io.basalt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.testing.Shared;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI end to end, in-process: what a user sees on stdout, stderr and in the exit code. */
public class CliTest {
    public record Run(int exitCode, String out, String err) { }

    public static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void greedyGenerationFromBosPrintsTheLlama2cText() throws IOException {
        String expected = Files.readString(Shared.reference("stories260K/greedy_200.txt"));
        Run r = run("generate", "--model", Shared.model("stories260K/stories260K.bin").toString(),
                "--max-tokens", "200", "--temperature", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(expected, r.out());
        assertTrue(r.err().contains("tok/s"), r.err());
    }

    @Test
    void promptedGreedyContinuesLikeLlama2c() throws IOException {
        String reference = Files.readString(Shared.reference("stories260K/greedy_200.txt"));
        // llama2.c run.c -n 64 -i "Once upon a time": positions 0..63; BOS + 4 prompt tokens, then 60 sampled.
        Run r = run("generate", "--model", Shared.model("stories260K/stories260K.bin").toString(),
                "--prompt", "Once upon a time", "--max-tokens", "60", "--temperature", "0");
        assertEquals(0, r.exitCode(), r.err());
        int firstNewline = reference.indexOf('\n');
        String upToLily = reference.substring(0, reference.indexOf("Lily", firstNewline) + "Lily".length());
        assertEquals(upToLily, "Once upon a time" + r.out().substring(0, upToLily.length() - "Once upon a time".length()));
    }

    @Test
    void seededSamplingIsReproducibleAndDiffersAcrossSeeds() {
        String model = Shared.model("stories260K/stories260K.bin").toString();
        Run a = run("generate", "--model", model, "--max-tokens", "60", "--temperature", "1.0", "--top-p", "0.9", "--seed", "42");
        Run b = run("generate", "--model", model, "--max-tokens", "60", "--temperature", "1.0", "--top-p", "0.9", "--seed", "42");
        Run c = run("generate", "--model", model, "--max-tokens", "60", "--temperature", "1.0", "--top-p", "0.9", "--seed", "7");
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(a.out(), b.out());
        assertNotEquals(a.out(), c.out());
    }

    @Test
    void ggufTinyLlamaLoadsAndGenerates() {
        Run r = run("generate", "--model", Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf").toString(),
                "--prompt", "Hello", "--max-tokens", "8", "--temperature", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("LLAMA"), r.err());
        assertTrue(r.err().matches("(?s).*generated [1-8] tokens.*|(?s).*generated 0 tokens.*finish=stop.*"), r.err());
    }

    @Test
    void logitsCommandWritesTheReferenceLogits(@TempDir Path dir) {
        Path out = dir.resolve("logits.f32");
        Run r = run("logits", "--model", Shared.model("gpt2-tiny-random/hf").toString(),
                "--tokens", "0,17,999,421,5,5,5,300,42,731,1,268", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        float[] expected = Shared.readF32(Shared.reference("gpt2-tiny-random/S1_logits_fp32.f32"));
        float[] got = Shared.readF32(out);
        assertEquals(expected.length, got.length);
        for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-4f, "logit " + i);
    }

    @Test
    void missingModelIsOneClearLine(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-model.bin");
        Run r = run("generate", "--model", missing.toString(), "--max-tokens", "1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("basalt: ") && r.err().contains("no-such-model.bin"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void tokenOutsideVocabularyIsRejected(@TempDir Path dir) {
        Run r = run("logits", "--model", Shared.model("gpt2-tiny-random/hf").toString(), "--tokens", "5,1000",
                "--out", dir.resolve("x.f32").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("token id 1000"), r.err());
    }

    @Test
    void badSamplingOptionsAreRejected() {
        Run r = run("generate", "--model", Shared.model("stories260K/stories260K.bin").toString(), "--top-p", "1.5");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("top_p"), r.err());
    }

    /** Exit status 2 and one "basalt: ..." line holding every fragment. */
    public static void assertOneLine(Run r, String... fragments) {
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().startsWith("basalt: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' not in: " + r.err());
    }

    @Test
    void parserErrorsAreOneLineNamingTheCommandsHelp() {
        assertOneLine(run("generate", "--bogus"), "unknown option '--bogus'", "basalt generate --help");
        assertOneLine(run("generate", "--max-token", "3"), "unknown option '--max-token'", "did you mean", "--max-tokens");
        assertOneLine(run("generate", "m.bin", "--max-tokens", "many"), "--max-tokens", "many", "basalt generate --help");
        assertOneLine(run("logits", "m.bin", "--out", "x.f32"), "--tokens", "basalt logits --help");
        assertOneLine(run("parity", "compare", "a.safetensors"), "basalt parity compare --help");
        assertOneLine(run("serve", "a.bin", "b.bin"), "unexpected argument 'b.bin'");
        assertOneLine(run("frobnicate"), "unexpected argument 'frobnicate'", "basalt --help");
    }

    @Test
    void generateTakesThePositionalModelAsServeDoes() {
        String model = Shared.model("stories260K/stories260K.bin").toString();
        Run positional = run("generate", model, "--max-tokens", "8", "--temperature", "0");
        Run option = run("generate", "--model", model, "--max-tokens", "8", "--temperature", "0");
        assertEquals(0, positional.exitCode(), positional.err());
        assertEquals(option.out(), positional.out());
        assertOneLine(run("generate", "--max-tokens", "8"), "no model given");
        assertOneLine(run("generate", model, "--model", "other.bin"), "two models given");
    }

    @Test
    void anOutputInAMissingFolderIsSaidBeforeTheWork(@TempDir Path dir) {
        Path out = dir.resolve("no-such-dir").resolve("x.f32");
        assertOneLine(run("logits", "--model", Shared.model("stories260K/stories260K.bin").toString(), "--tokens", "1,2",
                "--out", out.toString()), "--out", "the folder " + out.getParent() + " does not exist");
        assertOneLine(run("logits", "--model", Shared.model("stories260K/stories260K.bin").toString(), "--tokens", "1,2",
                "--out", dir.toString()), "is a folder");
    }

    @Test
    void fileErrorsSayWhatIsWrong() {
        assertEquals("/x/y: no such file or directory", Main.message(new java.nio.file.NoSuchFileException("/x/y")));
        assertEquals("/x/y: permission denied", Main.message(new java.io.UncheckedIOException("cannot write /x/y: /x/y",
                new java.nio.file.AccessDeniedException("/x/y"))));
    }
}
