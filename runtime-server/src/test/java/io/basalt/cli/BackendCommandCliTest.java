package io.basalt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A backend's own command (ServiceLoader, BackendCommand) and --compiled, as the user sees them. */
class BackendCommandCliTest {
    @Test
    void aBackendCommandGetsEveryFollowingArgumentAsTyped() {
        CliTest.Run r = CliTest.run("fakeaccel", "compile", "m.bin", "--out", "x", "--help", "-v");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("args=[compile, m.bin, --out, x, --help, -v]\nhéllo ✓", r.out().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void itsExitStatusAndErrorsPassThrough() {
        CliTest.Run r = CliTest.run("fakeaccel", "--fail");
        assertEquals(2, r.exitCode());
        assertEquals("basalt: fakeaccel failed", r.err().strip());
        CliTest.Run none = CliTest.run("fakeaccel");
        assertEquals(0, none.exitCode(), none.err());
        assertTrue(none.out().startsWith("args=[]"), none.out());
    }

    @Test
    void helpListsIt() {
        CliTest.Run r = CliTest.run("--help");
        assertTrue(r.out().contains("fakeaccel") && r.out().contains("Tools of the fake accelerator"), r.out());
    }

    @Test
    void aBadCompiledDirectoryIsOneLine(@TempDir Path dir) throws IOException {
        String model = Shared.model("stories260K/stories260K.bin").toString();
        Path file = Files.writeString(dir.resolve("manifest.json"), "{}");
        CliTest.assertOneLine(CliTest.run("serve", model, "--compiled", dir.resolve("nope").toString(), "--port", "0"),
                "--compiled", "nope", "no such directory");
        CliTest.assertOneLine(CliTest.run("serve", model, "--compiled", file.toString(), "--port", "0"),
                "--compiled", "not a directory");
        CliTest.assertOneLine(CliTest.run("parity", "run", model, "--compiled", file.toString(), "--prompts", file.toString(),
                "--out", dir.resolve("d.safetensors").toString()), "--compiled", "not a directory");
        assertTrue(CliTest.run("serve", "--help").out().contains("--compiled=DIR"));
        assertTrue(CliTest.run("parity", "run", "--help").out().contains("--compiled=DIR"));
    }

    @Test
    void serveHandsThePackageToTheBackendWhichMayRefuseIt(@TempDir Path dir) {
        // The cpu backend compiles nothing ahead: that it refuses the package proves LoadConfig.compiled reached it.
        ServeSettings s = ServeSettings.forTests(Shared.model("stories260K/stories260K.bin")).withCompiled(dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BasaltServer.start(s).close());
        assertTrue(e.getMessage().contains("--compiled"), e.getMessage());
        CliTest.assertOneLine(CliTest.run("serve", Shared.model("stories260K/stories260K.bin").toString(), "--compiled", dir.toString(),
                "--port", "0", "--grpc-port", "-1"), "compiled package (--compiled) is for the neuron backend");
    }
}
