package io.basalt.backend.neuron.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** python3 for the tests of kernels/neuron: skips the calling test when there is none. */
final class Python {
    record Result(int exitCode, String output) { }

    private Python() {}

    /** The repository root (the folder holding kernels/neuron/compile.py), found above the working directory. */
    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(CompileScript.SCRIPT))) return p;
        }
        throw new IllegalStateException(CompileScript.SCRIPT + " not found above " + Path.of("").toAbsolutePath());
    }

    static void assumePython() {
        Result r = run(repoRoot(), List.of("python3", "--version"));
        Assumptions.assumeTrue(r != null && r.exitCode() == 0, "python3 is not installed: skipping");
    }

    static Result run(Path dir, List<String> command) {
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(124, new String(out, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
