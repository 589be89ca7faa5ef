package io.basalt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.testing.Shared;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TiktokenTokenizerTest {
    private static Tokenizer tokenizerFor(String csv) {
        return csv.startsWith("r50k") ? Tokenizers.r50kBase() : Tokenizers.o200kHarmony();
    }

    /** Every row of the tiktoken-generated reference: encode matches column 2, decode round-trips. */
    @ParameterizedTest
    @ValueSource(strings = {"r50k_base_encodings.csv", "o200k_base_encodings.csv"})
    void matchesTiktokenReference(String csv) {
        Tokenizer t = tokenizerFor(csv);
        List<List<String>> rows = Csv.read(Shared.reference("tokenizers/" + csv));
        assertEquals(List.of("input", "output", "outputMaxTokens10"), rows.getFirst());
        assertTrue(rows.size() > 400, "rows: " + rows.size());
        for (List<String> row : rows.subList(1, rows.size())) {
            String input = row.get(0);
            int[] expected = Csv.ids(row.get(1));
            assertArrayEquals(expected, t.encode(input), () -> csv + ": " + input);
            assertEquals(input, t.decode(expected), () -> csv + " decode: " + input);
        }
    }

    @Test
    void documentedExamples() {
        assertArrayEquals(new int[] {31373, 995}, Tokenizers.r50kBase().encode("hello world"));
        assertArrayEquals(new int[] {13225, 2375, 0}, Tokenizers.o200kHarmony().encode("Hello world!"));
    }

    @Test
    void r50kSpecialsAndSizes() {
        Tokenizer t = Tokenizers.r50kBase();
        assertEquals(50257, t.vocabSize());
        assertEquals(50256, t.bosId());
        assertArrayEquals(new int[] {50256}, t.eosIds());
        assertArrayEquals(new int[] {31373, 50256, 995}, t.encodeWithSpecials("hello<|endoftext|> world"));
        // Without specials the marker is plain text.
        assertTrue(t.encode("<|endoftext|>").length > 1);
        assertEquals("<|endoftext|>", t.decode(new int[] {50256}));
        assertThrows(IllegalArgumentException.class, () -> t.decodeBytes(-1, 50257));
    }

    @Test
    void harmonySpecials() {
        Tokenizer t = Tokenizers.o200kHarmony();
        assertEquals(201088, t.vocabSize());
        assertEquals(199998, t.bosId());
        assertArrayEquals(new int[] {200002, 200012, 199999}, t.eosIds());
        assertArrayEquals(new int[] {200006, 200007, 200008, 200005, 200002, 200012, 200003, 199998, 199999},
                t.encodeWithSpecials("<|start|><|end|><|message|><|channel|><|return|><|call|><|constrain|><|startoftext|><|endoftext|>"));
        assertArrayEquals(new int[] {201087, 200018, 200018},
                t.encodeWithSpecials("<|reserved_201087|><|endofprompt|><|reserved_200018|>"));
        assertEquals("<|start|>user<|message|>Hi", t.decode(t.encodeWithSpecials("<|start|>user<|message|>Hi")));
        assertEquals("<|reserved_200018|>", t.decode(new int[] {200018}));
        assertEquals("<|reserved_200100|>", t.decode(new int[] {200100}));
        int[] plain = t.encode("<|start|>");
        assertTrue(plain.length > 1 && plain[0] < 199998, "specials are ordinary text in encode()");
        assertEquals("<|start|>", t.decode(plain));
    }

    @Test
    void decodeBytesGivesRawTokenBytes() {
        Tokenizer t = Tokenizers.r50kBase();
        // "☃" is E2 98 83; r50k splits it so that some tokens are partial UTF-8 sequences.
        int[] ids = t.encode("☃");
        StringBuilder hex = new StringBuilder();
        for (int id : ids) for (byte b : t.decodeBytes(-1, id)) hex.append(String.format("%02X", b));
        assertEquals("E29883", hex.toString());
        assertTrue(ids.length > 1, "expected a split character");
    }
}
