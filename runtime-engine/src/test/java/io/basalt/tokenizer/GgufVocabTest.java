package io.basalt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormats;
import io.basalt.testing.Shared;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Llama 2 cases of CASES.md through a GGUF-embedded vocabulary. */
class GgufVocabTest {
    /** The real file, read by the project's GGUF reader. */
    @Test
    void llama2CasesThroughTinyRandomGguf() {
        Path file = Shared.model("llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
        try (Checkpoint checkpoint = ModelFormats.open(file)) {
            Tokenizer t = Tokenizers.gguf(file, checkpoint.metadata());
            assertEquals(32000, t.vocabSize());
            SentencePieceTokenizerTest.assertLlama2Cases(t);
            org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {2}, t.eosIds()); // the file's eos_token_id
            String text = "Unicode: naïve café, 日本語, emoji 🙂\n";
            assertEquals(text, t.decode(SentencePieceTokenizerTest.withBos(t, text)));
        }
    }

    /**
     * Independent of the GGUF reader: the same vocabulary in GGUF's metadata shape, built from
     * llama2.c's export of it (' ' back to U+2581, "<s>"/"</s>" control, "<0xHH>" byte tokens).
     */
    @Test
    void llama2CasesThroughGgufShapedMetadata() {
        SentencePieceBpe bin = (SentencePieceBpe) SentencePieceTokenizerTest.LLAMA2;
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Long> types = new ArrayList<>();
        for (int id = 0; id < bin.vocabSize(); id++) {
            String piece = new String(bin.piece(id).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            long type = id == 0 ? 2 : id <= 2 ? 3 : id < 259 ? 6 : 1;
            tokens.add(switch (id) { case 1 -> "<s>"; case 2 -> "</s>"; default -> piece.replace(' ', '\u2581'); });
            scores.add(bin.score(id));
            types.add(type);
        }
        Map<String, Object> metadata = new HashMap<>();
        metadata.put("tokenizer.ggml.model", "llama");
        metadata.put("tokenizer.ggml.tokens", tokens);
        metadata.put("tokenizer.ggml.scores", scores);
        metadata.put("tokenizer.ggml.token_type", types);
        metadata.put("tokenizer.ggml.bos_token_id", 1L);
        metadata.put("tokenizer.ggml.eos_token_id", 2L);
        metadata.put("tokenizer.ggml.unknown_token_id", 0L);
        Tokenizer t = Tokenizers.gguf(Path.of("synthetic.gguf"), metadata);
        SentencePieceTokenizerTest.assertLlama2Cases(t);
        // Text that spells a control piece stays text; control pieces decode to nothing.
        assertEquals("a <s> b", t.decode(SentencePieceTokenizerTest.withBos(t, "a <s> b")));
        assertEquals(0, t.decodeBytes(-1, 2).length);
        String text = "Unicode: naïve café, 日本語, emoji 🙂\n";
        assertEquals(text, t.decode(SentencePieceTokenizerTest.withBos(t, text)));
    }
}
