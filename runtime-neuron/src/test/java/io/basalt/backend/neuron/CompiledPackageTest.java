package io.basalt.backend.neuron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormats;
import io.basalt.spi.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile packages and checkpoints: each is one clear error before anything reaches libnrt. */
class CompiledPackageTest {
    @TempDir
    static Path tmp;
    static Path good;

    @BeforeAll
    static void compile() {
        good = tmp.resolve("good");
        StandinCompiler.compile(Packages.STORIES, good, Packages.small());
    }

    private static Path copy(String name) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        try (var s = Files.list(good)) {
            for (Path p : s.toList()) Files.copy(p, d.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        return d;
    }

    private static String check(Path dir, Path model) {
        return assertThrows(RuntimeException.class, () -> {
            CompiledPackage pkg = CompiledPackage.open(dir);
            try (Checkpoint c = ModelFormats.open(model)) {
                pkg.checkModel(model, c);
            }
        }).getMessage();
    }

    @Test
    void theCompiledPackageOpensAndMatchesItsCheckpoint() throws Exception {
        CompiledPackage pkg = CompiledPackage.open(good);
        assertEquals(11, pkg.headers().size());
        assertEquals("prefill_b1_l16", pkg.headers().get("prefill_b1_l16.neff").name());
        try (Checkpoint c = ModelFormats.open(Packages.STORIES)) {
            assertEquals(5, pkg.checkModel(Packages.STORIES, c).layers().size());
        }
        byte[] neff = Files.readAllBytes(good.resolve("decode_b2_k128.neff"));
        String desc = new String(neff, NeffHeader.SIZE, neff.length - NeffHeader.SIZE, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(desc.startsWith("basalt-standin-graph 1\nkind decode\narch llama\nlayers 5\nhidden 64\nheads 8\nkv_heads 4\nhead_dim 8\n"), desc);
        assertTrue(desc.contains("\ntensor input0 in int32 2,1 input_ids\n"), desc);
        assertTrue(desc.contains("\ntensor input52 in f32 4,4,256,8 layer.0.k_cache alias=output1\n"), desc);
        assertTrue(desc.contains("\ntensor output0 out f32 2,512 logits\n"), desc);
    }

    @Test
    void aMissingNeffIsNamed() throws Exception {
        Path d = copy("missing");
        Files.delete(d.resolve("decode_b4_k64.neff"));
        assertEquals(d.resolve("decode_b4_k64.neff") + ": missing (manifest.json names it for the decode bucket batch 4, length 1, kv_length 64)",
                check(d, Packages.STORIES));
    }

    @Test
    void aChangedNeffFailsItsSha256() throws Exception {
        Path d = copy("changed");
        Path f = d.resolve("prefill_b1_l64.neff");
        byte[] b = Files.readAllBytes(f);
        b[b.length - 2] ^= 1;
        Files.write(f, b);
        String msg = check(d, Packages.STORIES);
        assertTrue(msg.startsWith(f + ": sha256 ") && msg.endsWith("(the file was changed or damaged after compiling)"), msg);
    }

    @Test
    void aDamagedHeaderIsNamedEvenWhenTheManifestAgrees() throws Exception {
        Path d = copy("damaged");
        Path f = d.resolve("prefill_b1_l16.neff");
        byte[] b = Files.readAllBytes(f);
        b[16] += 3; // data_size
        Files.write(f, b);
        String sha = CheckpointFingerprint.sha256(f);
        Path m = d.resolve("manifest.json");
        Manifest old = ManifestReader.read(d);
        Files.writeString(m, Files.readString(m).replace(old.buckets().getFirst().sha256(), sha));
        assertEquals(f + ": damaged NEFF header: data_size is " + (b.length - 1024 + 3) + " but the file holds " + (b.length - 1024)
                + " bytes after the header (truncated?)", check(d, Packages.STORIES));
    }

    @Test
    void anotherCheckpointIsRefusedNamingBoth() throws Exception {
        String msg = check(good, Packages.TINY_GGUF);
        assertTrue(msg.startsWith(good.resolve("manifest.json") + ": compiled from stories260K.bin, given llama-2-tiny-random.gguf"), msg);
        Path other = Files.createDirectories(tmp.resolve("other")).resolve("stories260K.bin");
        byte[] b = Files.readAllBytes(Packages.STORIES);
        b[b.length - 1] ^= 1;
        Files.write(other, b);
        String sha = CheckpointFingerprint.sha256(Packages.STORIES);
        msg = check(good, other);
        assertTrue(msg.startsWith(good.resolve("manifest.json") + ": compiled from stories260K.bin (" + b.length + " bytes, sha256 " + sha + "), given "
                + other + " (" + b.length + " bytes, sha256 "), msg);
    }

    @Test
    void aConfigDifferenceNamesTheField() throws Exception {
        Path d = copy("config");
        Path m = d.resolve("manifest.json");
        Files.writeString(m, Files.readString(m).replace("\"rope_theta\" : 10000.0", "\"rope_theta\" : 500000.0"));
        assertEquals(m + ": checkpoint.config differs from " + Packages.STORIES + "'s: rope_theta: compiled 500000.0, given 10000.0",
                check(d, Packages.STORIES));
    }

    @Test
    void theBackendNeedsAPackageAndALibnrt() {
        Backend.LoadConfig plain = new Backend.LoadConfig(1 << 20, 1, 1);
        assertEquals("the neuron backend runs a compiled package: pass --compiled DIR (basalt neuron compile MODEL --out DIR)",
                assertThrows(IllegalArgumentException.class, () -> new NeuronBackend(null).load(Packages.STORIES, plain)).getMessage());
        Path absent = tmp.resolve("no/libnrt.so.1");
        String msg = assertThrows(IllegalStateException.class,
                () -> new NeuronBackend(absent).load(Packages.STORIES, plain.withCompiled(good))).getMessage();
        assertTrue(msg.startsWith("the libnrt given " + absent + ": no such file (install aws-neuronx-runtime-lib, or point it at libnrt.so.1); "), msg);
    }

    @Test
    void compileOptionsAreCheckedAndNonLlamaIsRefused() {
        assertEquals("--tp must be at least 1, got 0", assertThrows(IllegalArgumentException.class, () -> Packages.small().withTp(0)).getMessage());
        assertEquals("manifest.json: tp_degree: 3 must divide num_heads 8, num_kv_heads 4 and intermediate_size 172",
                assertThrows(PackageException.class, () -> StandinCompiler.compile(Packages.STORIES, tmp.resolve("tp3"), Packages.small().withTp(3))).getMessage());
        Manifest m = StandinCompiler.compile(Packages.STORIES, tmp.resolve("tp2"), Packages.small().withTp(2).withWeightDtype("bf16"));
        Manifest.Input wq = m.buckets().getFirst().inputs().stream().filter(i -> i.kind().equals("layer.0.wq")).findFirst().orElseThrow();
        assertEquals("blk.0.attn_q.weight", wq.checkpointKey());
        assertEquals(0, wq.shardAxis());
        assertEquals("[32, 64] bf16", java.util.Arrays.toString(wq.shape()) + " " + wq.dtype());
    }
}
