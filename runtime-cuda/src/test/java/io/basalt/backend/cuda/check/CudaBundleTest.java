package io.basalt.backend.cuda.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/cuda/gpu-bundle.sh for real (jlink, ~30 s, so only with -Dbasalt.test.bundle=true and a packaged
 * runtime-server): .gpu/ under 60 MiB, and its run-check.sh runs the check with the bundled JDK and jars alone.
 */
class CudaBundleTest {
    @Test
    void theBundleStaysUnderItsLimitAndItsOneCommandRunsTheCheck(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("basalt.test.bundle"), "set -Dbasalt.test.bundle=true to build the GPU bundle (about 30 s)");
        Path root = CudaDeployTest.ROOT;
        Assumptions.assumeTrue(Files.isDirectory(root.resolve("runtime-server/target/lib")), "runtime-server is not packaged");
        Process p = new ProcessBuilder("bash", root.resolve("deploy/cuda/gpu-bundle.sh").toString(), "--no-build", "--allow-no-fatbin")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), out);
        Matcher size = Pattern.compile("bundle: \\.gpu/ (\\d+) MiB").matcher(out);
        assertTrue(size.find(), out);
        assertTrue(Integer.parseInt(size.group(1)) < 60, out);
        assertTrue(out.strip().endsWith(".gpu/run-check.sh \"$OUT\""), "the last line is the one command: " + out);
        String script = Files.readString(root.resolve(".gpu/run-check.sh"));
        assertTrue(script.contains("timeout \"${BASALT_CHECK_TIMEOUT:-480}\""), script);

        // The bundled JDK and jars alone (no libcuda named: whatever the loader finds, here none or the stand-in).
        Path results = dir.resolve("out");
        ProcessBuilder run = new ProcessBuilder(List.of(root.resolve(".gpu/run-check.sh").toString(), results.toString(), "--quick"))
                .redirectErrorStream(true);
        String lib = System.getProperty("basalt.cuda.library");
        if (lib != null && Files.isRegularFile(Path.of(lib))) run.environment().put("BASALT_CUDA_LIBRARY", lib);
        Process c = run.start();
        String log = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(c.waitFor(5, TimeUnit.MINUTES));
        assertTrue(c.exitValue() == 0 || c.exitValue() == 1, "0 or 1, not a crash: " + log);
        assertTrue(Files.readString(results.resolve("results.json")).contains("\"results\""), log);
        assertTrue(Files.readString(results.resolve("log.txt")).contains("correctness: "), log);
    }
}
