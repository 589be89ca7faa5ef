package io.basalt.server.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the Node.js scripts under {@code e2e/}: finds the folder, installs its npm dependencies
 * once (node_modules is kept, git-ignored), and runs a script with a time limit. Without node/npm,
 * or when the install fails (no registry), the calling test is skipped, not failed.
 */
final class NodeScripts {
    private NodeScripts() {}

    /** What a script printed and how it ended. */
    record Result(int exitCode, String output, Duration took) { }

    /** The project's e2e/ folder ({@code -Dbasalt.e2e.dir}, else found by walking up from the working directory). */
    static Path e2eDir() {
        String override = System.getProperty("basalt.e2e.dir");
        if (override != null && !override.isBlank()) return Path.of(override).toAbsolutePath();
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("e2e/package.json"))) return p.resolve("e2e");
        }
        Assumptions.abort("no e2e/package.json above " + Path.of("").toAbsolutePath());
        return null;
    }

    /** Skips the test unless node and npm run; installs e2e/node_modules when missing or stale. */
    static Path prepare() {
        Path dir = e2eDir();
        Result node = runQuietly(dir, Duration.ofSeconds(30), "node", "--version");
        Assumptions.assumeTrue(node != null && node.exitCode() == 0, "node is not installed: skipping the SDK e2e tests");
        int major = Integer.parseInt(node.output().strip().replaceAll("^v(\\d+).*$", "$1"));
        Assumptions.assumeTrue(major >= 20, "node " + node.output().strip() + " is older than 20: skipping");
        if (!installed(dir)) {
            Result npm = runQuietly(dir, Duration.ofSeconds(30), "npm", "--version");
            Assumptions.assumeTrue(npm != null && npm.exitCode() == 0, "npm is not installed: skipping the SDK e2e tests");
            Result install = null;
            if (Files.isRegularFile(dir.resolve("package-lock.json"))) {
                install = runQuietly(dir, Duration.ofMinutes(5), "npm", "ci", "--no-audit", "--no-fund");
            }
            if (install == null || install.exitCode() != 0) {
                install = runQuietly(dir, Duration.ofMinutes(5), "npm", "install", "--no-audit", "--no-fund");
            }
            Result done = install;
            Assumptions.assumeTrue(done != null && done.exitCode() == 0 && installed(dir),
                    () -> "npm could not install e2e/ (offline?): skipping the SDK e2e tests\n" + tail(done));
        }
        return dir;
    }

    /** node_modules has every dependency and is newer than package.json and the lock file. */
    private static boolean installed(Path dir) {
        try {
            Path stamp = dir.resolve("node_modules/.package-lock.json");
            if (!Files.isRegularFile(stamp)) return false;
            FileTime installedAt = Files.getLastModifiedTime(stamp);
            for (String f : List.of("package.json", "package-lock.json")) {
                Path p = dir.resolve(f);
                if (Files.isRegularFile(p) && Files.getLastModifiedTime(p).compareTo(installedAt) > 0) return false;
            }
            var deps = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("package.json").toFile()).path("dependencies");
            for (var names = deps.fieldNames(); names.hasNext(); ) {
                if (!Files.isRegularFile(dir.resolve("node_modules").resolve(names.next()).resolve("package.json"))) return false;
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String tail(Result r) {
        if (r == null) return "";
        String s = r.output();
        return s.length() > 3000 ? "..." + s.substring(s.length() - 3000) : s;
    }

    private static Result runQuietly(Path dir, Duration limit, String... command) {
        try {
            return run(dir, limit, false, command);
        } catch (IOException e) {
            return null;
        }
    }

    /** Runs {@code node openai/SCRIPT args...} in e2e/, echoing its output. */
    static Result node(Path dir, Duration limit, String script, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("node", script));
        cmd.addAll(List.of(args));
        return run(dir, limit, true, cmd.toArray(String[]::new));
    }

    static Result run(Path dir, Duration limit, boolean echo, String... command) throws IOException {
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("NO_COLOR", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (InputStream in = p.getInputStream()) {
                byte[] buf = new byte[8192];
                for (int n; (n = in.read(buf)) > 0; ) {
                    synchronized (out) {
                        out.write(buf, 0, n);
                    }
                    if (echo) System.out.write(buf, 0, n);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        });
        boolean done;
        try {
            done = p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted", e);
        }
        if (echo) System.out.flush();
        String text;
        synchronized (out) {
            text = out.toString(StandardCharsets.UTF_8);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        return new Result(done ? p.exitValue() : 124, done ? text : text + "\n[killed after " + limit.toSeconds() + " s]", took);
    }
}
