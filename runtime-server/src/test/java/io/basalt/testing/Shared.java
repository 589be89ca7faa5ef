package io.basalt.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the shared test fixtures (models and peer reference outputs). Order: the system property
 * {@code basalt.shared}, the environment variable {@code BASALT_SHARED}, then a {@code shared}
 * folder beside the project root found by walking up from the working directory.
 */
public final class Shared {
    private Shared() {}

    public static Path root() {
        String prop = System.getProperty("basalt.shared");
        if (prop == null || prop.isBlank()) prop = System.getenv("BASALT_SHARED");
        if (prop != null && !prop.isBlank() && Files.isDirectory(Path.of(prop))) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("models"))) return candidate.normalize();
        }
        throw new IllegalStateException("shared fixtures not found: set -Dbasalt.shared or BASALT_SHARED");
    }

    public static Path model(String relative) { return root().resolve("models").resolve(relative); }

    public static Path reference(String relative) { return root().resolve("reference").resolve(relative); }

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
