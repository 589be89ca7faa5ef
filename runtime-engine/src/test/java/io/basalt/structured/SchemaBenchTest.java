package io.basalt.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.basalt.testing.Shared;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The random-walk guarantee on the JSONSchemaBench sample: for every schema that compiles, random
 * allowed tokens (gpt2 vocabulary) until the matcher accepts or 1024 tokens; every finished output
 * parses and validates against its schema, and no walk reaches an empty mask (a dead end).
 */
class SchemaBenchTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test void randomWalksValidate() throws Exception {
        Path root = Shared.reference("jsonschemabench");
        TokenVocabulary vocab = GrammarTesting.Gpt2.VOCAB;
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
        StringBuilder report = new StringBuilder("subset | schemas | compiled | finished | invalid | refusals\n");
        List<String> invalid = new ArrayList<>(), deadEnds = new ArrayList<>(), unvalidated = new ArrayList<>();
        List<Long> compileNanos = new ArrayList<>();
        List<String> subsets;
        try (Stream<Path> s = Files.list(root)) { subsets = s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList(); }
        for (String subset : subsets) {
            List<Path> files;
            try (Stream<Path> s = Files.list(root.resolve(subset))) { files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList(); }
            int compiled = 0, finished = 0, bad = 0;
            Map<String, Integer> refusals = new TreeMap<>();
            for (Path f : files) {
                String text = Files.readString(f);
                CompiledGrammar g;
                long t0 = System.nanoTime();
                try {
                    g = SchemaCompiler.compile(text, vocab, Limits.DEFAULT);
                } catch (SchemaException e) {
                    refusals.merge(e.keyword(), 1, Integer::sum);
                    continue;
                }
                compileNanos.add(System.nanoTime() - t0);
                compiled++;
                Random rnd = new Random(f.getFileName().toString().hashCode());
                String out = walk(g, rnd, deadEnds, subset + "/" + f.getFileName());
                if (out == null) continue;
                finished++;
                JsonNode value;
                try {
                    value = JSON.readTree(out);
                } catch (Exception e) {
                    bad++;
                    invalid.add(subset + "/" + f.getFileName() + ": not JSON: " + out);
                    continue;
                }
                Schema schema;
                try {
                    schema = registry.getSchema(JSON.readTree(text));
                } catch (RuntimeException e) {  // the validator cannot load some published schemas (odd ids, remote refs)
                    unvalidated.add(subset + "/" + f.getFileName() + ": " + e.getMessage());
                    continue;
                }
                List<com.networknt.schema.Error> errors;
                try {
                    errors = schema.validate(value);
                } catch (RuntimeException e) {
                    unvalidated.add(subset + "/" + f.getFileName() + ": " + e.getMessage());
                    continue;
                }
                // a oneOf matched by two branches is invalid too: oneOf compiles only when its branches exclude each other
                if (!errors.isEmpty()) {
                    bad++;
                    invalid.add(subset + "/" + f.getFileName() + ": " + errors.get(0) + " in " + abbreviate(out));
                }
            }
            report.append(subset).append(" | ").append(files.size()).append(" | ").append(compiled).append(" | ").append(finished)
                    .append(" | ").append(bad).append(" | ").append(refusals).append('\n');
        }
        compileNanos.sort(null);
        report.append("compile p50 ").append(compileNanos.get(compileNanos.size() / 2) / 1000).append(" us, p90 ")
                .append(compileNanos.get(compileNanos.size() * 9 / 10) / 1000).append(" us, max ")
                .append(compileNanos.get(compileNanos.size() - 1) / 1000).append(" us (cold JVM)\n");
        System.out.println(report);
        invalid.forEach(System.out::println);
        unvalidated.forEach(u -> System.out.println("not validated (validator error): " + u));
        deadEnds.forEach(System.out::println);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/schemabench-report.txt"), report + String.join("\n", invalid) + "\n" + String.join("\n", deadEnds));
        assertTrue(deadEnds.isEmpty(), "dead ends: " + deadEnds);
        assertEquals(List.of(), invalid);
    }

    /**
     * Half the steps pick uniformly over the whole mask, half over the allowed tokens that are not plain
     * string text (so strings end and the walk reaches structure). Null when 1024 tokens did not finish.
     */
    static String walk(CompiledGrammar g, Random rnd, List<String> deadEnds, String name) {
        TokenVocabulary v = g.vocabulary();
        Matcher m = g.newMatcher();
        long[] mask = new long[v.maskWords()];
        int[] all = new int[v.size()], structural = new int[v.size()];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int step = 0; step < 1024; step++) {
            if (m.isAccepting() || m.isTerminated()) return out.toString(java.nio.charset.StandardCharsets.UTF_8);
            m.fillMask(mask);
            int na = 0, ns = 0;
            for (int w = 0; w < mask.length; w++) {
                long bits = mask[w];
                while (bits != 0) {
                    int id = (w << 6) + Long.numberOfTrailingZeros(bits);
                    bits &= bits - 1;
                    all[na++] = id;
                    if ((v.plainMask[w] & (1L << id)) == 0) structural[ns++] = id;
                }
            }
            if (na == 0) { deadEnds.add(name + ": empty mask after " + out.toString(java.nio.charset.StandardCharsets.UTF_8)); return null; }
            int id = (ns > 0 && rnd.nextBoolean()) ? structural[rnd.nextInt(ns)] : all[rnd.nextInt(na)];
            if (!m.accept(id)) { deadEnds.add(name + ": masked token " + id + " refused"); return null; }
            out.writeBytes(v.bytes(id));
        }
        return m.isAccepting() ? out.toString(java.nio.charset.StandardCharsets.UTF_8) : null;
    }

    private static String abbreviate(String s) { return s.length() > 300 ? s.substring(0, 300) + "…" : s; }
}
