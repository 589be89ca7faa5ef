package io.basalt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.ModelFormatException;
import io.basalt.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** llama2.c-rules SentencePiece BPE against llama2.c's own outputs (reference/CASES.md). */
class SentencePieceTokenizerTest {
    static final Tokenizer TOK512 = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), 512);
    static final Tokenizer LLAMA2 = Tokenizers.llama2c(Shared.model("llama2-tokenizer/tokenizer.bin"), 32000);

    /** llama2.c encode(text, bos=1, eos=0). */
    static int[] withBos(Tokenizer t, String text) {
        return IntStream.concat(IntStream.of(t.bosId()), Arrays.stream(t.encode(text))).toArray();
    }

    @Test
    void tok512Encodings() {
        assertArrayEquals(new int[] {1}, withBos(TOK512, ""));
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, withBos(TOK512, "Once upon a time"));
        assertArrayEquals(new int[] {1, 291, 276, 286, 261, 370}, withBos(TOK512, "There was a big"));
        assertArrayEquals(new int[] {1, 317, 439, 419, 357, 336, 432, 313, 440, 417, 443, 436},
                withBos(TOK512, "Lily's mom said, \"Hi!\""));
        assertArrayEquals(new int[] {1, 281, 306, 414, 263, 304, 341, 410, 475, 479, 472},
                withBos(TOK512, "hello world 123"));
        assertEquals(512, TOK512.vocabSize());
        assertArrayEquals(new int[] {2, 1}, TOK512.eosIds()); // run.c also stops at BOS (between stories)
    }

    @Test
    void llama2Encodings() {
        assertLlama2Cases(LLAMA2);
        assertEquals(32000, LLAMA2.vocabSize());
        assertArrayEquals(new int[] {2, 1}, LLAMA2.eosIds());
    }

    static void assertLlama2Cases(Tokenizer t) {
        assertArrayEquals(new int[] {1, 306, 4658, 278, 6593, 310, 2834, 338},
                withBos(t, "I believe the meaning of life is"));
        assertArrayEquals(new int[] {1, 3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871},
                withBos(t, "Simply put, the theory of relativity states that "));
        assertEquals(1, t.bosId());
    }

    @Test
    void readsUntilEofWhenVocabSizeUnknown() {
        assertEquals(512, Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), -1).vocabSize());
        assertEquals(32000, Tokenizers.llama2c(Shared.model("llama2-tokenizer/tokenizer.bin"), -1).vocabSize());
    }

    @Test
    void byteFallbackAndDecodeRules() {
        // '☃' is not in the Llama vocab as a piece: byte fallback ids are byte + 3 ...
        int[] ids = LLAMA2.encode("☃");
        assertArrayEquals(new int[] {29871, 0xE2 + 3, 0x98 + 3, 0x83 + 3}, ids);
        // ... and "<0xHH>" pieces decode to the raw byte.
        assertEquals(" ☃", LLAMA2.decode(ids));
        // The piece after BOS drops its leading space; BOS/EOS contribute nothing.
        assertEquals("Once upon a time", TOK512.decode(withBos(TOK512, "Once upon a time")));
        assertEquals(0, TOK512.decodeBytes(-1, 1).length);
        assertEquals(0, TOK512.decodeBytes(5, 2).length);
        String text = "Unicode: naïve café, 日本語, emoji 🙂, tab\tnewline\n";
        assertEquals(text, LLAMA2.decode(withBos(LLAMA2, text)));
        assertEquals(text, TOK512.decode(withBos(TOK512, text)));
    }

    @Test
    void longInputMatchesQuadraticReference() {
        // The heap merge must pick the same pairs as llama2.c's rescan; compare on text with many ties.
        String text = "the the the cat sat on the mat; " .repeat(50) + "aaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbb";
        assertArrayEquals(LlamaRescanReference.encode(LLAMA2, text), LLAMA2.encode(text));
        assertArrayEquals(LlamaRescanReference.encode(TOK512, text), TOK512.encode(text));
    }

    @Test
    void badTokenizerFilesAreModelFormatErrors(@TempDir Path dir) throws Exception {
        Path truncated = dir.resolve("truncated.bin");
        byte[] full = Files.readAllBytes(Shared.model("stories260K/tok512.bin"));
        Files.write(truncated, Arrays.copyOf(full, full.length - 3));
        var e = assertThrows(ModelFormatException.class, () -> Tokenizers.llama2c(truncated, 512));
        assertEquals(truncated, e.file());
        assertThrows(ModelFormatException.class, () -> Tokenizers.llama2c(dir.resolve("missing.bin"), 512));
        assertThrows(ModelFormatException.class, () -> Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), 600));
    }

    @Test
    void ggufMetadataErrors() {
        Path f = Path.of("x.gguf");
        assertThrows(ModelFormatException.class, () -> Tokenizers.gguf(f, Map.of()));
        var e = assertThrows(ModelFormatException.class, () -> Tokenizers.gguf(f, Map.of("tokenizer.ggml.model", "gpt2")));
        assertTrue(e.getMessage().contains("gpt2"), e.getMessage());
        assertThrows(ModelFormatException.class, () -> Tokenizers.gguf(f, Map.of("tokenizer.ggml.model", "llama")));
    }
}
