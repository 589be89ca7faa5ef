package io.basalt.bench.serve;

import java.util.SplittableRandom;

/**
 * Where the random and prefix-repetition datasets get their text: {@link RandomText} (exact lengths,
 * from a tokenizer here or the server's /tokenize) or {@link WordText} (approximate lengths, when
 * only the server's usage counts are at hand).
 */
public interface TextSource {
    /** Made text and its length in tokens (-1 when the source cannot count: the server's usage will). */
    record Text(String text, int tokens) { }

    /**
     * Text of {@code tokens} tokens (as near as this source can make it). Called from several threads
     * at once, each with its own random (with the server's tokenizer a prompt is a few HTTP calls).
     */
    Text text(SplittableRandom random, int tokens);

    /** The text's length in tokens, or -1 when this source cannot count. */
    int count(String text);
}
