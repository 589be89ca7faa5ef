package io.basalt.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tests' fixtures are the project's own copies, intact: a fresh clone needs nothing beside it. */
class SharedTest {
    /** A row of a SOURCE.md table: | file | bytes | sha256 |. */
    private static final Pattern ROW = Pattern.compile("^\\| *([^ |]+) *\\| *(\\d+) *\\| *([0-9a-f]{64}) *\\|\\s*$");

    @BeforeAll
    static void noOverride() {
        String prop = System.getProperty("basalt.testdata"), env = System.getenv("BASALT_TESTDATA");
        assumeTrue((prop == null || prop.isBlank()) && (env == null || env.isBlank()), "fixtures overridden: not the project's own");
    }

    @Test
    void fixturesAreTheProjectsOwnTestdata() {
        Path root = Shared.root();
        assertEquals("testdata", root.getFileName().toString(), root.toString());
        assertTrue(Files.isRegularFile(root.resolveSibling("pom.xml")), "testdata/ sits in the project root: " + root);
        assertTrue(Files.isRegularFile(Shared.model("stories260K/stories260K.bin")));
        assertTrue(Files.isRegularFile(Shared.reference("stories260K/greedy_200.txt")));
    }

    /**
     * Every data file is listed in a SOURCE.md (its own folder's or an ancestor's) with the size and
     * sha256 it has on disk: catches a checkout that rewrote bytes (line-end conversion), a fixture
     * added without provenance, and a listed one that is missing.
     */
    @Test
    void everyFixtureMatchesItsSourceChecksum() throws IOException {
        Path root = Shared.root();
        Set<Path> listed = new TreeSet<>();
        List<Path> sources;
        try (Stream<Path> s = Files.walk(root)) {
            sources = s.filter(p -> p.getFileName().toString().equals("SOURCE.md")).toList();
        }
        assertTrue(sources.size() >= 5, "SOURCE.md files: " + sources);
        for (Path source : sources) {
            for (String line : Files.readAllLines(source)) {
                Matcher m = ROW.matcher(line);
                if (!m.matches()) continue;
                Path file = source.resolveSibling(m.group(1)).normalize();
                assertTrue(Files.isRegularFile(file), source + " lists a missing file " + m.group(1));
                assertEquals(Long.parseLong(m.group(2)), Files.size(file), "size of " + file);
                assertEquals(m.group(3), sha256(file), "sha256 of " + file);
                assertTrue(listed.add(file), file + " is listed twice");
            }
        }
        Set<Path> data = new TreeSet<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().endsWith(".md") && !p.getFileName().toString().equals(".gitattributes"))
                    .forEach(data::add);
        }
        data.removeAll(listed);
        assertEquals(Set.of(), data, "fixtures no SOURCE.md lists");
    }

    private static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
