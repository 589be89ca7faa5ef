package io.basalt.structured;

import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared vocabularies and token-by-token checks for the grammar tests. */
final class GrammarTesting {
    private GrammarTesting() {}

    /** GPT-2 (r50k_base, 50257 ids; id 50256 is <|endoftext|>, special). */
    static final class Gpt2 {
        static final Tokenizer TOKENIZER = Tokenizers.r50kBase();
        static final TokenVocabulary VOCAB = TokenVocabulary.of(TOKENIZER);
    }

    /** Llama 2's 32000-piece SentencePiece vocabulary (byte-fallback <0xNN> pieces, leading-space pieces). */
    static final class Llama {
        static final Tokenizer TOKENIZER = Tokenizers.llama2c(Shared.model("llama2-tokenizer/tokenizer.bin"), 32000);
        static final TokenVocabulary VOCAB = TokenVocabulary.of(TOKENIZER);
    }

    static CompiledGrammar gpt2(String schema) { return SchemaCompiler.compile(schema, Gpt2.VOCAB, Limits.DEFAULT); }

    /**
     * Feeds text's tokens one by one; each must be in the mask and accepted. Returns whether the
     * matcher accepts at the end.
     */
    static boolean feed(CompiledGrammar g, Tokenizer t, String text, boolean checkMask) {
        Matcher m = g.newMatcher();
        long[] mask = new long[g.vocabulary().maskWords()];
        for (int id : t.encode(text)) {
            if (checkMask) {
                m.fillMask(mask);
                boolean inMask = (mask[id >>> 6] & (1L << id)) != 0;
                assertEquals(m.allows(id), inMask, "mask and allows() disagree on token " + id + " in " + text);
                if (!inMask) return false;
            }
            if (!m.accept(id)) return false;
        }
        return m.isAccepting();
    }

    static void assertValid(CompiledGrammar g, String text) {
        assertTrue(feed(g, Gpt2.TOKENIZER, text, true), () -> "gpt2 should accept: " + text);
    }

    static void assertInvalid(CompiledGrammar g, String text) {
        if (feed(g, Gpt2.TOKENIZER, text, true)) fail("gpt2 should reject: " + text);
    }

    static void assertValidLlama(CompiledGrammar g, String text) {
        assertTrue(feed(g, Llama.TOKENIZER, text, true), () -> "llama should accept: " + text);
    }
}
