package io.basalt.backend.neuron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dockerfile.neuron and deploy/neuron/entrypoint.sh without Docker: the entrypoint runs with a fake java that prints the
 * command line it was given, and the Dockerfile is checked for the basics (non-root, HEALTHCHECK, pinned versions).
 */
class NeuronDeployTest {
    private static final Path ROOT = Python.repoRoot();

    record Result(int exitCode, String out, String err) { }

    private static Result entrypoint(Path dir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        Path fakeJava = dir.resolve("java");
        Files.writeString(fakeJava, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", ROOT.resolve("deploy/neuron/entrypoint.sh").toString()));
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
    void theEntrypointServesThePackageFromTheEnvironment(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")) || Files.isExecutable(Path.of("/usr/bin/bash")), "no bash");
        Path model = Files.writeString(dir.resolve("model.bin"), "x");
        Path pkg = Files.createDirectory(dir.resolve("pkg"));
        Files.writeString(pkg.resolve("manifest.json"), "{}");
        Result r = entrypoint(dir, Map.of("BASALT_MODEL", model.toString(), "BASALT_COMPILED", pkg.toString(), "BASALT_PORT", "9000",
                "BASALT_ARGS", "--max-num-seqs 4 --served-model-name llama", "BASALT_HOME", "/opt/b"), "--api-key", "k");
        assertEquals(0, r.exitCode(), r.err());
        List<String> argv = r.out().lines().toList();
        int serve = argv.indexOf("serve");
        assertTrue(argv.contains("-Dbasalt.home=/opt/b") && argv.contains("/opt/b/runtime-server.jar"), argv.toString());
        assertTrue(argv.contains("--enable-native-access=ALL-UNNAMED"), argv.toString());
        assertEquals(List.of("serve", model.toString(), "--backend", "neuron", "--compiled", pkg.toString(), "--host", "0.0.0.0",
                "--port", "9000", "--grpc-port", "50051", "--max-num-seqs", "4", "--served-model-name", "llama", "--api-key", "k"),
                argv.subList(serve, argv.size()));
    }

    @Test
    void theEntrypointRefusesAMissingModelOrPackageInOneLine(@TempDir Path dir) throws Exception {
        Path model = Files.writeString(dir.resolve("model.bin"), "x");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        record Case(Map<String, String> env, String fragment) { }
        for (Case c : List.of(new Case(Map.of(), "BASALT_MODEL is not set"),
                new Case(Map.of("BASALT_MODEL", model.toString()), "BASALT_COMPILED is not set"),
                new Case(Map.of("BASALT_MODEL", dir.resolve("none").toString(), "BASALT_COMPILED", empty.toString()), "no such file"),
                new Case(Map.of("BASALT_MODEL", model.toString(), "BASALT_COMPILED", model.toString()), "not a directory"),
                new Case(Map.of("BASALT_MODEL", model.toString(), "BASALT_COMPILED", empty.toString()), "no manifest.json"))) {
            Result r = entrypoint(dir, c.env());
            assertEquals(2, r.exitCode(), c.toString());
            assertTrue(r.err().startsWith("basalt: ") && r.err().contains(c.fragment()), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertEquals("", r.out(), "java must not run: " + r.out());
        }
    }

    @Test
    void theDockerfileRunsAsNonRootWithAHealthcheckAndPinnedVersions() throws IOException {
        String df = Files.readString(ROOT.resolve("Dockerfile.neuron"));
        assertTrue(Pattern.compile("(?m)^USER (?!root)\\S+").matcher(df).find(), "a non-root USER");
        assertTrue(Pattern.compile("(?m)^HEALTHCHECK .*\\n?.*/health").matcher(df).find(), "a HEALTHCHECK on /health");
        assertTrue(df.contains("--target compile") && Pattern.compile("(?m)^FROM \\S+ AS compile$").matcher(df).find(), "a compile stage");
        assertFalse(df.contains("aws-neuronx-dkms\"") || Pattern.compile("(?m)install.*aws-neuronx-dkms").matcher(df).find(),
                "the driver belongs on the host");
        java.util.Set<String> stages = new java.util.HashSet<>();
        Matcher from = Pattern.compile("(?m)^FROM (\\S+)(?: AS (\\S+))?").matcher(df);
        while (from.find()) {
            String image = from.group(1);
            // an earlier stage, or an ARG whose default is checked below, or a tagged image
            boolean ok = stages.contains(image) || image.startsWith("${") || (image.contains(":") && !image.endsWith(":latest"));
            assertTrue(ok, "unpinned base image " + image);
            if (from.group(2) != null) stages.add(from.group(2));
        }
        Matcher images = Pattern.compile("(?m)^ARG [A-Z_]*IMAGE=(\\S+)$").matcher(df);
        while (images.find()) assertTrue(images.group(1).matches("[^:]+:[^:]*\\d[^:]*"), "unpinned image " + images.group(1));
        for (String pkg : List.of("aws-neuronx-runtime-lib", "aws-neuronx-collectives", "neuronx-cc", "neuronx-distributed-inference")) {
            assertTrue(Pattern.compile("\"" + pkg + "=+\\$\\{[A-Z_]+}\"").matcher(df).find(), pkg + " pinned through an ARG");
        }
        Matcher arg = Pattern.compile("(?m)^ARG ([A-Z_]+)=(\\S+)$").matcher(df);
        while (arg.find()) assertFalse(arg.group(2).contains("latest"), arg.group());
        assertTrue(df.contains("LD_LIBRARY_PATH=/opt/aws/neuron/lib"));
        assertTrue(df.contains("ENTRYPOINT [\"/opt/basalt/entrypoint.sh\"]"));
    }
}
