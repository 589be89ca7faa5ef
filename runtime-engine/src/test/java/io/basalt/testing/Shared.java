package io.basalt.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the test fixtures (models and peer reference outputs) the project keeps in its own
 * {@code testdata/} folder, so the tests pass on a fresh clone with nothing beside it. Order: an
 * override ({@code -Dbasalt.testdata=DIR}, else the environment variable {@code BASALT_TESTDATA}),
 * which must exist; the project's folder as Maven names it ({@code basalt.testdata.default}, set by
 * the root pom); then a {@code testdata} folder found by walking up from the working directory (an
 * IDE run, or Maven started inside a module).
 */
public final class Shared {
    private Shared() {}

    public static Path model(String relative) { return root().resolve("models").resolve(relative); }

    public static Path reference(String relative) { return root().resolve("reference").resolve(relative); }

    public static Path root() {
        String override = System.getProperty("basalt.testdata");
        String from = "-Dbasalt.testdata";
        if (override == null || override.isBlank()) {
            override = System.getenv("BASALT_TESTDATA");
            from = "BASALT_TESTDATA";
        }
        if (override != null && !override.isBlank()) {
            Path dir = Path.of(override).toAbsolutePath().normalize();
            // A mistyped override should fail loudly, not quietly test against other data.
            if (!isFixtures(dir)) throw new IllegalStateException(from + "=" + override + ": no models/ folder there");
            return dir;
        }
        String projectDefault = System.getProperty("basalt.testdata.default");
        if (projectDefault != null && !projectDefault.isBlank() && isFixtures(Path.of(projectDefault))) {
            return Path.of(projectDefault).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (isFixtures(p.resolve("testdata"))) return p.resolve("testdata");
        }
        throw new IllegalStateException("test fixtures not found: no testdata/ folder in the project root above "
                + Path.of("").toAbsolutePath() + "; set -Dbasalt.testdata=DIR or BASALT_TESTDATA=DIR");
    }

    private static boolean isFixtures(Path dir) { return Files.isDirectory(dir.resolve("models")); }

    /** Reads a little-endian float32 file. */
    public static float[] readF32(Path file) {
        try {
            byte[] b = Files.readAllBytes(file);
            float[] out = new float[b.length / 4];
            java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
