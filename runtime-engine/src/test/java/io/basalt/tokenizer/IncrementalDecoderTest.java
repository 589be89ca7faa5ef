package io.basalt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.testing.Shared;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class IncrementalDecoderTest {
    /** llama2.c test_all.py: 200 greedy ids from BOS, decoded with tok512, byte for byte. */
    @Test
    void stories260kGreedyText() throws Exception {
        String idsText = Files.readString(Shared.reference("stories260K/greedy_200_ids.txt")).strip();
        int[] ids = Arrays.stream(idsText.split("\\s+")).mapToInt(Integer::parseInt).toArray();
        assertEquals(200, ids.length);
        byte[] expected = Files.readAllBytes(Shared.reference("stories260K/greedy_200.txt"));
        IncrementalDecoder decoder = new IncrementalDecoder(SentencePieceTokenizerTest.TOK512, 1);
        StringBuilder out = new StringBuilder();
        for (int id : ids) out.append(decoder.next(id));
        out.append(decoder.flush());
        assertArrayEquals(expected, out.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Byte-level BPE splits emoji and CJK across tokens; no chunk may carry half a character. */
    @Test
    void neverEmitsPartialCharacters() {
        String text = "Emoji 🙂👍🏽🇯🇵 and CJK 日本語の文章、한국어 text ☃️ end";
        for (Tokenizer t : new Tokenizer[] {Tokenizers.r50kBase(), Tokenizers.o200kHarmony(), SentencePieceTokenizerTest.LLAMA2}) {
            int[] ids = t.encode(text);
            boolean sawHeldBack = false;
            IncrementalDecoder decoder = new IncrementalDecoder(t, -1);
            StringBuilder out = new StringBuilder();
            for (int id : ids) {
                String chunk = decoder.next(id);
                assertFalse(chunk.contains("\uFFFD"), () -> "replacement char in chunk " + chunk);
                assertFalse(!chunk.isEmpty() && Character.isHighSurrogate(chunk.charAt(chunk.length() - 1)));
                sawHeldBack |= chunk.isEmpty() && t.decodeBytes(-1, id).length > 0;
                out.append(chunk);
            }
            out.append(decoder.flush());
            String expected = t == SentencePieceTokenizerTest.LLAMA2 ? " " + text : text; // dummy prefix, no BOS
            assertEquals(expected, out.toString());
            assertTrue(sawHeldBack, "the text should split some character across tokens");
        }
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        Tokenizer t = SentencePieceTokenizerTest.LLAMA2;
        IncrementalDecoder d = new IncrementalDecoder(t, -1);
        assertEquals("", d.next(0xF0 + 3));            // lead byte of a 4-byte character: held back
        assertEquals("", d.next(0x9F + 3));
        String broken = d.next('A' + 3);                // the character never completes
        assertEquals(new String(new byte[] {(byte) 0xF0, (byte) 0x9F, 'A'}, StandardCharsets.UTF_8), broken);
        assertTrue(broken.startsWith("\uFFFD") && broken.endsWith("A"), broken);
        assertEquals("", d.next(0xE2 + 3));
        assertEquals("\uFFFD", d.flush());            // held-back bytes at the end
    }

    @Test
    void completePrefixLength() {
        byte[] euro = "a€".getBytes(StandardCharsets.UTF_8); // 61 E2 82 AC
        assertEquals(1, IncrementalDecoder.completePrefixLength(euro, 2));
        assertEquals(1, IncrementalDecoder.completePrefixLength(euro, 3));
        assertEquals(4, IncrementalDecoder.completePrefixLength(euro, 4));
        byte[] stray = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80};
        assertEquals(4, IncrementalDecoder.completePrefixLength(stray, 4));
        byte[] bad = {'x', (byte) 0xFF};
        assertEquals(2, IncrementalDecoder.completePrefixLength(bad, 2));
    }
}
