package io.basalt.backend.neuron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** basalt neuron compile|check as the user sees them: exit codes, one-line errors, what compile.py is given. */
class NeuronCommandTest {
    record Run(int exitCode, String out, String err) { }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new NeuronCommand().run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertOneLine(Run r, String... fragments) {
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().startsWith("basalt: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' not in: " + r.err());
    }

    @Test
    void helpNamesBothCommands() {
        Run r = run("--help");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("compile") && r.out().contains("check"), r.out());
        assertTrue(run("compile", "--help").out().contains("--prefill-buckets"));
        assertTrue(run("check", "--help").out().contains("--compiled"));
    }

    @Test
    void badOptionsAreOneLine(@TempDir Path dir) {
        String m = dir.toString();
        assertOneLine(run("compile", m), "--out");
        assertOneLine(run("compile", m, "--out", "x", "--target", "tpu"), "--target", "tpu");
        assertOneLine(run("compile", m, "--out", "x", "--dtype", "f16"), "--dtype", "f16");
        assertOneLine(run("compile", m, "--out", "x", "--tp", "0"), "--tp");
        assertOneLine(run("compile", m, "--out", "x", "--prefill-buckets", "128,-1"), "--prefill-buckets");
        assertOneLine(run("compile", m, "--out", "x", "--max-length", "64"), "--max-length 64", "128");
        assertOneLine(run("compile", m, "--out", "x", "--decode-batches", "8"), "--decode-batches 8", "--max-batch 4");
        assertOneLine(run("compile", dir.resolve("none").toString(), "--out", "x"), "no such file");
        assertOneLine(run("compile", m, "--out", "x", "--frobnicate"), "--frobnicate", "basalt neuron compile --help");
        assertOneLine(run("check", m), "--compiled");
        assertOneLine(run("check", "--compiled", dir.resolve("none").toString(), m), "not a directory");
        assertOneLine(run("check", "--compiled", m, m), "no manifest.json");
        assertOneLine(run("check", "--compiled", m, m, "--prompts", "9"), "--prompts");
    }

    @Test
    void optionsBecomeTheScriptsArguments() {
        CompileCommand c = new CompileCommand();
        new picocli.CommandLine(c).parseArgs("m", "--out", "o", "--target", "inf2", "--tp", "2", "--prefill-buckets", "512,128",
                "--kv-lengths", "1024", "--max-batch", "4", "--dtype", "bf16");
        assertEquals(List.of("--target", "inf2", "--tp", "2", "--prefill-buckets", "128,512", "--decode-batches", "4",
                "--kv-lengths", "1024", "--max-batch", "4", "--max-length", "1024", "--dtype", "bf16"), c.options().scriptArguments());
    }

    @Test
    void inf2WithoutTheSdkSaysWhatIsMissing(@TempDir Path out) {
        Python.assumePython();
        Python.Result sdk = Python.run(Python.repoRoot(), List.of("python3", "-c", "import neuronx_distributed_inference"));
        org.junit.jupiter.api.Assumptions.assumeTrue(sdk.exitCode() != 0, "the Neuron SDK is installed here");
        Path model = Python.repoRoot().resolve("kernels/neuron/tests/fixtures/llama-tiny");
        System.setProperty("basalt.home", Python.repoRoot().toString());
        Run r = run("compile", model.toString(), "--out", out.resolve("pkg").toString(), "--target", "inf2",
                "--prefill-buckets", "64", "--kv-lengths", "128");
        assertEquals(2, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().contains("the Neuron SDK is not installed: missing") && r.err().contains("neuronx-distributed-inference"), r.err());
        assertTrue(Files.notExists(out.resolve("pkg/manifest.json")));
    }

    @Test
    void aStandinPackageCompilesAndPassesTheCheck(@TempDir Path dir) {
        Path model = io.basalt.testing.Shared.model("stories260K/stories260K.bin");
        Path pkg = dir.resolve("pkg");
        Run compile = run("compile", model.toString(), "--out", pkg.toString(), "--target", "standin", "--prefill-buckets", "16",
                "--decode-batches", "1", "--kv-lengths", "64", "--max-batch", "2", "--max-length", "64");
        assertEquals(0, compile.exitCode(), compile.out() + compile.err());
        assertTrue(Files.isRegularFile(pkg.resolve("manifest.json")));

        Run check = run("check", "--compiled", pkg.toString(), model.toString(), "--prompts", "2", "--max-tokens", "4", "--speed-tokens", "8");
        assertEquals(0, check.exitCode(), check.out() + check.err());
        assertTrue(check.out().contains("runtime: libnrt ") && check.out().contains("target standin, tp 1"), check.out());
        assertTrue(check.out().contains("parity: PASS"), check.out());
        assertTrue(check.out().contains("speed: prefill "), check.out());
    }
}
