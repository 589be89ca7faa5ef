package io.basalt;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.lang.EvaluationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering of docs/ARCHITECTURE.md, enforced: its package table's last column ("must not touch") becomes one
 * rule per row over the compiled production classes of every module on this test class path (runtime-api,
 * runtime-engine, runtime-cpu, runtime-torch, runtime-server). The table is the single source: change it and the
 * rules change; add a package and the table must name it.
 */
class LayeringTest {
    /** One row: these packages must not depend on those. */
    record Row(List<String> packages, List<String> forbidden) { }

    private static final Pattern TICKED = Pattern.compile("`([^`]+)`");
    private static final Pattern OUR_MODULES = Pattern.compile(".*/runtime-(api|engine|cpu|torch|neuron|cuda|server)[/-].*");

    static List<Row> rows;
    static JavaClasses classes;

    @BeforeAll
    static void read() throws IOException {
        rows = rows(Files.readString(architectureDoc()));
        // Production classes of our modules only: not their tests (target/test-classes, *-tests.jar), not other jars.
        // Maven gives the modules as class folders (test) or as jars (install): read either.
        List<Location> ours = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            String e = entry.replace('\\', '/');
            if (!OUR_MODULES.matcher(e).matches() || e.contains("test-classes") || e.endsWith("-tests.jar")) continue;
            ours.add(e.endsWith(".jar") ? Location.of(new JarFile(entry)) : Location.of(Path.of(entry)));
        }
        classes = new ClassFileImporter().importLocations(ours);
    }

    static Path architectureDoc() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path doc = p.resolve("docs/ARCHITECTURE.md");
            if (Files.isRegularFile(doc)) return doc;
        }
        throw new IllegalStateException("docs/ARCHITECTURE.md not found above " + Path.of("").toAbsolutePath());
    }

    /** The rows of the table under "## Packages": first cell's `packages`, last cell's `forbidden` ones. */
    static List<Row> rows(String markdown) {
        int start = markdown.indexOf("## Packages");
        if (start < 0) throw new IllegalStateException("ARCHITECTURE.md has no '## Packages' section");
        int end = markdown.indexOf("\n## ", start + 1);
        List<Row> out = new ArrayList<>();
        for (String line : markdown.substring(start, end < 0 ? markdown.length() : end).split("\n")) {
            if (!line.startsWith("| `")) continue;
            String[] cells = line.split("(?<!\\\\)\\|");
            out.add(new Row(ticked(cells[1]), ticked(cells[cells.length - 1])));
        }
        if (out.isEmpty()) throw new IllegalStateException("ARCHITECTURE.md's package table has no rows");
        return out;
    }

    private static List<String> ticked(String cell) {
        List<String> out = new ArrayList<>();
        Matcher m = TICKED.matcher(cell);
        while (m.find()) out.add(qualified(m.group(1)));
        return out;
    }

    /** {@code engine..} → {@code io.basalt.engine..}; {@code io.basalt}, {@code java…}, {@code jdk…} stay as written. */
    static String qualified(String name) {
        return name.startsWith("io.basalt") || name.startsWith("java") || name.startsWith("jdk") ? name : "io.basalt." + name;
    }

    @Test
    void noPackageTouchesWhatTheTableForbids() {
        List<String> violations = new ArrayList<>();
        for (Row r : rows) {
            EvaluationResult result = noClasses().that().resideInAnyPackage(r.packages().toArray(String[]::new))
                    .should().dependOnClassesThat().resideInAnyPackage(r.forbidden().toArray(String[]::new))
                    .evaluate(classes);
            if (result.hasViolation()) violations.addAll(result.getFailureReport().getDetails());
        }
        assertTrue(violations.isEmpty(), violations.size() + " dependencies break docs/ARCHITECTURE.md's layering:\n"
                + String.join("\n", violations.stream().limit(40).toList()));
    }

    @Test
    void theTableNamesEveryPackageAndOnlyThoseThatExist() {
        Set<String> actual = new TreeSet<>();
        for (JavaClass c : classes) actual.add(c.getPackageName());
        Set<String> named = new TreeSet<>();
        for (Row r : rows) named.addAll(r.packages());
        Set<String> missing = new TreeSet<>(actual);
        missing.removeAll(named);
        Set<String> stale = new TreeSet<>(named);
        stale.removeAll(actual);
        assertEquals(Set.of(), missing, "packages the table in docs/ARCHITECTURE.md does not name");
        assertEquals(Set.of(), stale, "packages the table names that do not exist");
    }

    @Test
    void theTableIsReadAsWritten() {
        List<Row> parsed = rows("""
                ## Packages
                | package | owns | must not touch |
                | --- | --- | --- |
                | `engine`, `engine.sampling` | the engine, and `Scheduler` | `backend..`, `jdk.incubator.vector..` |
                ## Next
                | `not` | a | `row` |
                """);
        assertEquals(List.of(new Row(List.of("io.basalt.engine", "io.basalt.engine.sampling"),
                List.of("io.basalt.backend..", "jdk.incubator.vector.."))), parsed);
    }
}
