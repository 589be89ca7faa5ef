package io.basalt.backend.cuda.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dockerfile.cuda and deploy/cuda/entrypoint.sh without Docker or a GPU: the entrypoint runs with a fake java that
 * prints the command line it was given; the Dockerfile is checked for the basics (non-root, HEALTHCHECK, pinned images).
 */
class CudaDeployTest {
    static final Path ROOT = repoRoot();

    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("deploy/cuda/entrypoint.sh"))) return p;
        }
        throw new IllegalStateException("deploy/cuda/entrypoint.sh not found above " + Path.of("").toAbsolutePath());
    }

    record Result(int exitCode, String out, String err) { }

    private static Result entrypoint(Path dir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        Path fakeJava = dir.resolve("java");
        Files.writeString(fakeJava, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("deploy/cuda/entrypoint.sh").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("BASALT_"));
        pb.environment().put("BASALT_JAVA", fakeJava.toString());
        pb.environment().putAll(env);
        Path err = dir.resolve("stderr");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out, Files.readString(err));
    }

    @Test
    void theEntrypointServesTheModelOnTheCudaBackendFromTheEnvironment(@TempDir Path dir) throws Exception {
        Path model = Files.writeString(dir.resolve("model.gguf"), "x");
        Result r = entrypoint(dir, Map.of("BASALT_MODEL", model.toString(), "BASALT_PORT", "9000",
                "BASALT_ARGS", "--max-num-seqs 64 --dtype bf16", "BASALT_HOME", "/opt/b"), "--api-key", "k");
        assertEquals(0, r.exitCode(), r.err());
        List<String> argv = r.out().lines().toList();
        assertTrue(argv.contains("-Dbasalt.home=/opt/b") && argv.contains("/opt/b/runtime-server.jar"), argv.toString());
        assertTrue(argv.contains("--enable-native-access=ALL-UNNAMED") && argv.contains("--add-modules=jdk.incubator.vector"), argv.toString());
        int serve = argv.indexOf("serve");
        assertEquals(List.of("serve", model.toString(), "--backend", "cuda", "--host", "0.0.0.0", "--port", "9000", "--grpc-port", "50051",
                "--max-num-seqs", "64", "--dtype", "bf16", "--api-key", "k"), argv.subList(serve, argv.size()));
    }

    @Test
    void theEntrypointRefusesAMissingModelInOneLine(@TempDir Path dir) throws Exception {
        record Case(Map<String, String> env, String fragment) { }
        for (Case c : List.of(new Case(Map.of(), "BASALT_MODEL is not set"),
                new Case(Map.of("BASALT_MODEL", dir.resolve("none").toString()), "no such file or directory"))) {
            Result r = entrypoint(dir, c.env());
            assertEquals(2, r.exitCode(), c.toString());
            assertTrue(r.err().startsWith("basalt: ") && r.err().contains(c.fragment()), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertEquals("", r.out(), "java must not run: " + r.out());
        }
    }

    @Test
    void theDockerfileBuildsKernelsRunsAsNonRootWithAHealthcheckAndPinnedImages() throws IOException {
        String df = Files.readString(ROOT.resolve("Dockerfile.cuda"));
        assertTrue(Pattern.compile("(?m)^USER (?!root)\\S+").matcher(df).find(), "a non-root USER");
        assertTrue(Pattern.compile("(?m)^HEALTHCHECK .*\\n?.*/health").matcher(df).find(), "a HEALTHCHECK on /health");
        assertTrue(df.contains("ENTRYPOINT [\"/opt/basalt/entrypoint.sh\"]"));
        assertTrue(df.contains("COPY deploy/cuda/entrypoint.sh /opt/basalt/entrypoint.sh"));
        Set<String> stages = new HashSet<>();
        List<String> bases = new ArrayList<>();
        Matcher from = Pattern.compile("(?m)^FROM (\\S+)(?: AS (\\S+))?").matcher(df);
        while (from.find()) {
            String image = from.group(1);
            assertTrue(stages.contains(image) || image.matches("\\$\\{[A-Z_]+}"), "base image not through an ARG: " + image);
            bases.add(image);
            if (from.group(2) != null) stages.add(from.group(2));
        }
        assertEquals(List.of("${CUDA_DEVEL_IMAGE}", "${CUDA_RUNTIME_IMAGE}"), bases);
        // devel (nvcc) to build, runtime (cuBLASLt, no compiler) to serve, one CUDA version for both.
        Matcher devel = Pattern.compile("(?m)^ARG CUDA_DEVEL_IMAGE=nvidia/cuda:(13\\.0\\.\\d+)-devel-ubuntu24\\.04$").matcher(df);
        Matcher runtime = Pattern.compile("(?m)^ARG CUDA_RUNTIME_IMAGE=nvidia/cuda:(13\\.0\\.\\d+)-runtime-ubuntu24\\.04$").matcher(df);
        assertTrue(devel.find() && runtime.find(), "nvidia/cuda 13.0.x devel and runtime on ubuntu24.04");
        assertEquals(devel.group(1), runtime.group(1));
        Matcher arg = Pattern.compile("(?m)^ARG ([A-Z_]+)=(\\S+)$").matcher(df);
        while (arg.find()) assertFalse(arg.group(2).contains("latest"), arg.group());
        assertFalse(df.contains(":latest"));
        assertTrue(df.contains("libcublasLt.so.13"), "the serve stage checks cuBLASLt is there");
        assertTrue(df.contains("basalt.fatbin"), "the build stage fails without the kernels");
        assertTrue(df.contains("jlink "), "a jlinked JDK, not a full one");
    }
}
