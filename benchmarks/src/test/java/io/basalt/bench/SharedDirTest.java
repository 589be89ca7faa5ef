package io.basalt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench finds its stories260K model in the project's testdata/, through the root the launcher passes. */
class SharedDirTest {
    @Test
    void findsTheProjectsTestdata() {
        assumeTrue(System.getenv("BASALT_TESTDATA") == null && System.getProperty("basalt.testdata") == null, "fixtures overridden");
        Path model = SharedDir.model("stories260K/stories260K.bin");
        assertTrue(Files.isRegularFile(model));
        assertEquals(Path.of("testdata", "models", "stories260K", "stories260K.bin"), model.subpath(model.getNameCount() - 4, model.getNameCount()));
    }

    /** basalt.home (the launcher's project root) comes before the walk up from the working directory. */
    @Test
    void launcherRootComesFirst(@TempDir Path home) throws Exception {
        assumeTrue(System.getenv("BASALT_TESTDATA") == null && System.getProperty("basalt.testdata") == null, "fixtures overridden");
        Path model = Files.createDirectories(home.resolve("testdata/models/stories260K")).resolve("stories260K.bin");
        Files.write(model, new byte[] {1});
        String before = System.getProperty("basalt.home");
        System.setProperty("basalt.home", home.toString());
        try {
            assertEquals(home.resolve("testdata").toRealPath(), SharedDir.find().toRealPath());
            assertEquals(model.toRealPath(), SharedDir.model("stories260K/stories260K.bin").toRealPath());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> SharedDir.model("stories260K/missing.bin"));
            assertTrue(e.getMessage().contains("missing model fixture"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty("basalt.home");
            else System.setProperty("basalt.home", before);
        }
    }
}
