package io.basalt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.basalt.model.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tokenizer.json through DJL; the native library comes from the DJL jar, so this runs offline. */
class HuggingFaceTokenizerTest {
    static Path resource(String name) throws Exception {
        return Path.of(HuggingFaceTokenizerTest.class.getResource("/tokenizer/" + name).toURI());
    }

    @Test
    void wordLevel() throws Exception {
        Tokenizer t = Tokenizers.huggingFace(resource("wordlevel/tokenizer.json"));
        assertEquals(6, t.vocabSize());
        assertArrayEquals(new int[] {1, 2, 3}, t.encode("Hello world!"));
        assertArrayEquals(new int[] {4, 0, 1}, t.encode("basalt granite hello"));
        assertArrayEquals(new int[0], t.encode(""));
        assertEquals("hello world !", t.decode(new int[] {1, 2, 3}));
        // No tokenizer_config.json and no well-known special names: no BOS, no EOS.
        assertEquals(-1, t.bosId());
        assertArrayEquals(new int[0], t.eosIds());
    }

    @Test
    void byteLevelBpe() throws Exception {
        Tokenizer t = Tokenizers.huggingFace(resource("bytelevel-bpe")); // a directory works too
        assertEquals(21, t.vocabSize());
        assertEquals(0, t.bosId());
        assertArrayEquals(new int[] {0}, t.eosIds());
        assertArrayEquals(new int[] {14, 19, 20}, t.encode("hello world!"));
        assertEquals("hello world!", t.decode(new int[] {14, 19, 20}));
        int[] ids = t.encode("hello é");
        assertArrayEquals(new int[] {14, 5, 9, 10}, ids);
        assertArrayEquals(new byte[] {(byte) 0xC3}, t.decodeBytes(5, 9)); // half of "é"
        IncrementalDecoder d = new IncrementalDecoder(t, -1);
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String chunk = d.next(id);
            assertEquals(-1, chunk.indexOf('\uFFFD'));
            out.append(chunk);
        }
        assertEquals("hello é", out.append(d.flush()).toString());
        // No truncation: a long input keeps every token.
        assertEquals(3000, t.encode("hello world!".repeat(1000)).length);
    }

    @Test
    void notATokenizerFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, "{\"hello\": 1}");
        assertThrows(ModelFormatException.class, () -> Tokenizers.huggingFace(f));
        assertThrows(ModelFormatException.class, () -> Tokenizers.huggingFace(dir.resolve("missing.json")));
    }
}
