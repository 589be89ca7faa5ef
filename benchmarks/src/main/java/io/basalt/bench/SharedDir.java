package io.basalt.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the project's test fixtures ({@code testdata/}: the tiny models the benchmark runs) by the
 * test-scope locator's rules, in main scope: an override ({@code -Dbasalt.testdata=DIR}, else
 * {@code BASALT_TESTDATA}), {@code testdata} in the project root the launcher passes as
 * {@code basalt.home}, the folder Maven names ({@code basalt.testdata.default}, under the tests),
 * then a {@code testdata} folder above the working directory.
 */
public final class SharedDir {
    private SharedDir() {}

    /** The fixtures folder (holding {@code models/}), or null when none is found. */
    public static Path find() {
        String override = System.getProperty("basalt.testdata");
        if (override == null || override.isBlank()) override = System.getenv("BASALT_TESTDATA");
        if (override != null && !override.isBlank()) {
            Path dir = Path.of(override).toAbsolutePath().normalize();
            return isFixtures(dir) ? dir : null; // a wrong override is reported, not replaced by another folder
        }
        String home = System.getProperty("basalt.home");
        if (home != null && !home.isBlank() && isFixtures(Path.of(home, "testdata"))) {
            return Path.of(home, "testdata").toAbsolutePath().normalize();
        }
        String projectDefault = System.getProperty("basalt.testdata.default");
        if (projectDefault != null && !projectDefault.isBlank() && isFixtures(Path.of(projectDefault))) {
            return Path.of(projectDefault).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (isFixtures(p.resolve("testdata"))) return p.resolve("testdata");
        }
        return null;
    }

    /** A file under the fixtures' models folder; fails with a message naming the ways to point at it. */
    public static Path model(String relative) {
        Path root = find();
        if (root == null) {
            throw new IllegalStateException("model fixtures not found: no testdata/models in the project root"
                    + " (or the -Dbasalt.testdata / BASALT_TESTDATA folder); set -Dbasalt.testdata=DIR or BASALT_TESTDATA=DIR");
        }
        Path p = root.resolve("models").resolve(relative);
        if (!Files.exists(p)) throw new IllegalStateException("missing model fixture " + p);
        return p;
    }

    private static boolean isFixtures(Path dir) { return Files.isDirectory(dir.resolve("models")); }
}
