package io.basalt.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the shared model fixtures for the benchmark (the test-scope locator's rules, in main scope):
 * the system property {@code basalt.shared}, the environment variable {@code BASALT_SHARED}, a
 * {@code shared} folder beside the project root (the launcher passes {@code basalt.home}), then one
 * beside any folder above the working directory.
 */
public final class SharedDir {
    private SharedDir() {}

    /** The shared folder, or null when none is found. */
    public static Path find() {
        String prop = System.getProperty("basalt.shared");
        if (prop == null || prop.isBlank()) prop = System.getenv("BASALT_SHARED");
        if (prop != null && !prop.isBlank() && Files.isDirectory(Path.of(prop))) return Path.of(prop).toAbsolutePath().normalize();
        String home = System.getProperty("basalt.home");
        if (home != null && !home.isBlank()) {
            Path candidate = Path.of(home).toAbsolutePath().resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("models"))) return candidate.normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("models"))) return candidate.normalize();
        }
        return null;
    }

    /** A file under the shared models folder; fails with a message naming the ways to point at it. */
    public static Path model(String relative) {
        Path root = find();
        if (root == null) {
            throw new IllegalStateException("shared model fixtures not found: set -Dbasalt.shared=DIR or BASALT_SHARED=DIR");
        }
        Path p = root.resolve("models").resolve(relative);
        if (!Files.exists(p)) throw new IllegalStateException("missing shared model " + p);
        return p;
    }
}
