package io.basalt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The e2e/openai scripts take BASE_URL as the server's address or as the SDK's API root (…/v1), as
 * {@code bench serve --base-url} does: the helper's own tests (node --test), and sdk.mjs run against
 * the real server given without /v1. Skipped without node 20+, the SDK run also without
 * e2e/node_modules (the server e2e tests in runtime-server install it).
 */
class OpenAiScriptsBaseUrlTest {
    record Result(int rc, String output) { }

    static Path e2e() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("e2e/package.json"))) return p.resolve("e2e");
        }
        Assumptions.abort("no e2e/package.json above " + Path.of("").toAbsolutePath());
        return null;
    }

    static Result node(Path dir, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("node"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes(); // the scripts end on their own (their own timeouts)
            if (!p.waitFor(120, TimeUnit.SECONDS)) p.destroyForcibly();
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Path requireNode() {
        Path dir = e2e();
        Result v = node(dir, "--version");
        Assumptions.assumeTrue(v != null && v.rc() == 0, "node is not installed");
        Assumptions.assumeTrue(Integer.parseInt(v.output().strip().replaceAll("^v(\\d+).*$", "$1")) >= 20, "node is older than 20");
        return dir;
    }

    @Test
    void helperAcceptsTheServerAddressAndTheApiRoot() {
        Path dir = requireNode();
        Result r = node(dir, "--test", "openai/base-url.test.mjs");
        assertEquals(0, r.rc(), r.output());
        assertTrue(r.output().contains("# fail 0"), r.output());
    }

    @Test
    void sdkScriptRunsAgainstTheServerAddress() {
        Path dir = requireNode();
        Assumptions.assumeTrue(Files.isRegularFile(dir.resolve("node_modules/openai/package.json")), "e2e/node_modules has no openai package");
        java.util.logging.Logger.getLogger("basalt.requests").setLevel(java.util.logging.Level.WARNING);
        try (BasaltServer server = BasaltServer.start(ServeSettings.forTests(Shared.model("stories260K/stories260K.bin")))) {
            Result r = node(dir, "openai/sdk.mjs", server.baseUrl(), server.model().id());
            assertEquals(0, r.rc(), r.output());
            assertTrue(r.output().contains("checks passed against " + server.baseUrl() + "/v1 "), r.output());
        }
    }
}
