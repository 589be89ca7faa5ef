package io.basalt.backend.neuron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** manifest.json is read strictly: each kind of damage is one message naming the file and the field path. */
class ManifestReaderTest {
    @TempDir
    static Path dir;
    static String text;

    @BeforeAll
    static void compile() throws Exception {
        StandinCompiler.compile(Packages.STORIES, dir, Packages.small());
        text = Files.readString(dir.resolve(Manifest.FILE));
    }

    private static String error(String from, String to) {
        String damaged = text.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to));
        if (damaged.equals(text)) throw new AssertionError("nothing replaced: " + from);
        return assertThrows(PackageException.class, () -> ManifestReader.parse("manifest.json", damaged)).getMessage();
    }

    @Test
    void whatTheCompilerWritesReadsBackEqual() {
        Manifest m = ManifestReader.read(dir);
        assertEquals(text, ManifestWriter.text(m));
        assertEquals(2 + 3 * 3, m.buckets().size());
        assertEquals("llama", m.checkpoint().architecture());
    }

    @Test
    void eachDamageIsOneMessageNamingTheField() {
        assertEquals("manifest.json: version: this Basalt reads version 1, the package is version 2 (recompile it with this Basalt's basalt neuron compile)",
                error("\"version\" : 1", "\"version\" : 2"));
        assertEquals("manifest.json: format: expected \"basalt-neuron-package\", got \"other\"",
                error("\"basalt-neuron-package\"", "\"other\""));
        assertEquals("manifest.json: tp_degree: expected a positive integer, got \"1\"", error("\"tp_degree\" : 1", "\"tp_degree\" : \"1\""));
        assertEquals("manifest.json: checkpoint.color: unknown field (expected one of architecture, config, files)",
                error("\"architecture\" : \"llama\"", "\"architecture\" : \"llama\", \"color\": 1"));
        assertEquals("manifest.json: kv.max_batch: missing", error("\"max_batch\" : 4,", ""));
        assertEquals("manifest.json: buckets[0].inputs[5].shape: expected an array of positive integers",
                error("\"shape\" : [ 64 ]", "\"shape\" : [ 64, -1 ]"));
        assertEquals("manifest.json: buckets[0].outputs[0].dtype: expected one of f32, bf16, int32, got \"f64\"",
                error("\"dtype\" : \"f32\"\n    }, {\n      \"name\" : \"output1\"".replace("\"f32\"", "\"f32\""), "\"dtype\" : \"f64\"\n    }, {\n      \"name\" : \"output1\""));
        assertEquals("manifest.json: checkpoint.architecture: 'gpt2' is not supported by the neuron backend (supported: llama)",
                error("\"architecture\" : \"llama\"", "\"architecture\" : \"gpt2\""));
        assertEquals("manifest.json: tp_degree: 3 must divide num_heads 8, num_kv_heads 4 and intermediate_size 172",
                error("\"tp_degree\" : 1", "\"tp_degree\" : 3"));
        assertEquals("manifest.json: buckets[0].inputs[4].shape: [64, 64] but tok_embeddings needs [512, 64] (from checkpoint.config, tp_degree, kv and the bucket)",
                error("\"shape\" : [ 512, 64 ]", "\"shape\" : [ 64, 64 ]"));
    }

    @Test
    void stateInputsMustAliasAnOutputOfTheirKind() {
        assertEquals("manifest.json: buckets[0].inputs[52].alias: \"output99\" is not an output of this bucket",
                error("\"alias\" : \"output1\"", "\"alias\" : \"output99\""));
        assertEquals("manifest.json: buckets[0].inputs[52].alias: \"output2\" is the output layer.0.v_cache, not layer.0.k_cache",
                error("\"alias\" : \"output1\"", "\"alias\" : \"output2\""));
    }

    @Test
    void notJsonAndAMissingManifestAreClear() throws Exception {
        assertEquals("manifest.json: not valid JSON: Unexpected end-of-input: expected close marker for Object (start marker at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1]) (line 1)",
                assertThrows(PackageException.class, () -> ManifestReader.parse("manifest.json", "{")).getMessage());
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertEquals(empty.resolve("manifest.json") + ": no such file (is " + empty + " a compiled package? basalt neuron compile writes one)",
                assertThrows(PackageException.class, () -> ManifestReader.read(empty)).getMessage());
    }
}
