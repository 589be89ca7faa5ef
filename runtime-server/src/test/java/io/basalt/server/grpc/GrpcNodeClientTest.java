package io.basalt.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.engine.EngineStats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A second gRPC implementation against the server: e2e/grpc/client.mjs (grpc-js + proto-loader,
 * reading runtime-api's .proto files) streams, checks health and cancels mid-stream. Skipped when
 * node/npm are missing or the npm packages cannot be installed (offline).
 */
class GrpcNodeClientTest {
    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("runtime-api/src/main/proto")) && Files.isDirectory(p.resolve("e2e"))) return p;
        }
        throw new IllegalStateException("repository root (with runtime-api/src/main/proto and e2e/) not found above "
                + Path.of("").toAbsolutePath());
    }

    record Run(int exit, String output) { }

    static Run run(Path dir, Duration timeout, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = new byte[0];
            }
        });
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            reader.join(2000);
            return new Run(-1, "timed out after " + timeout + "\n" + (out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8)));
        }
        reader.join(5000);
        return new Run(p.exitValue(), out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8));
    }

    static boolean onPath(String tool) {
        try {
            return run(Path.of("").toAbsolutePath(), Duration.ofSeconds(20), tool, "--version").exit() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void nodeGrpcJsClientStreamsChecksHealthAndCancels() throws Exception {
        Assumptions.assumeTrue(onPath("node") && onPath("npm"), "node and npm are not on PATH");
        Path root = repoRoot();
        Path e2e = root.resolve("e2e");
        boolean installed = List.of("@grpc/grpc-js", "@grpc/proto-loader").stream()
                .allMatch(pkg -> Files.isRegularFile(e2e.resolve("node_modules").resolve(pkg).resolve("package.json")));
        if (!installed) {
            Run install = run(e2e, Duration.ofSeconds(180), "npm", "install", "--no-audit", "--no-fund");
            Assumptions.assumeTrue(install.exit() == 0, () -> "npm install failed (offline?):\n" + install.output());
        }

        try (GrpcFixture f = new GrpcFixture(16, "")) {
            // Slow steps, so the 400-token generation is still running when the client cancels it.
            f.stepDelay(Duration.ofMillis(5));
            long generatedBefore = f.engine.stats().numGeneratedTokens();
            Run client = run(root, Duration.ofSeconds(60), "node", "e2e/grpc/client.mjs", Integer.toString(f.server.port()),
                    root.resolve("runtime-api/src/main/proto").toString());
            assertEquals(0, client.exit(), client.output());
            assertTrue(client.output().contains("all gRPC checks passed"), client.output());

            EngineStats s = f.awaitStats(GrpcFixture::idle, Duration.ofSeconds(2));
            assertTrue(GrpcFixture.idle(s), "KV blocks or sequences still held after the cancel: " + s);
            assertEquals(0, s.kvUsedBlocks());
            long generated = s.numGeneratedTokens() - generatedBefore;
            // Two greedy 32-token runs; the cancelled 400-token run must have stopped well short.
            assertTrue(generated < 64 + 200, "the cancelled generation kept going: " + generated + " tokens in all");
            assertEquals(0, f.service.inFlight());
        }
    }
}
