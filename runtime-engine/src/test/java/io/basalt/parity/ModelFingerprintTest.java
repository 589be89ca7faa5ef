package io.basalt.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFingerprintTest {
    @TempDir
    Path dir;

    @Test
    void theSameFilesHashTheSameWhereverTheyLie() throws IOException {
        Path a = Files.createDirectories(dir.resolve("machine-a/model"));
        Path b = Files.createDirectories(dir.resolve("elsewhere/b"));
        for (Path d : new Path[] {a, b}) {
            Files.writeString(d.resolve("config.json"), "{\"model_type\": \"gpt2\"}");
            Files.write(d.resolve("model.safetensors"), new byte[] {1, 2, 3});
        }
        assertEquals(ModelFingerprint.of(a), ModelFingerprint.of(b));
        Files.writeString(b.resolve("config.json"), "{\"model_type\": \"gpt3\"}");
        assertNotEquals(ModelFingerprint.of(a), ModelFingerprint.of(b));
        String gguf = ModelFingerprint.of(Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"));
        assertEquals(71, gguf.length(), "sha256: + 64 hex digits");
    }

    @Test
    void aLargeFileIsSampledNotReadWhole() throws IOException {
        byte[] big = new byte[ModelFingerprint.WHOLE_FILE + 3 * ModelFingerprint.CHUNK];
        new Random(1).nextBytes(big);
        Path f = Files.write(dir.resolve("w.bin"), big);
        String before = ModelFingerprint.of(f);
        big[ModelFingerprint.CHUNK + 5] ^= 1; // between the first chunk and the first sample: not read
        assertEquals(before, ModelFingerprint.of(Files.write(f, big)));
        big[big.length - 1] ^= 1; // in the last chunk
        assertNotEquals(before, ModelFingerprint.of(Files.write(f, big)));
    }
}
