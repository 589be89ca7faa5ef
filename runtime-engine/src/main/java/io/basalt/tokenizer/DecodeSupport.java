package io.basalt.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Shared decode helpers for the tokenizer implementations. */
final class DecodeSupport {
    static final byte[] EMPTY = new byte[0];

    private DecodeSupport() {}

    /**
     * Whole-sequence decode as the concatenation of {@link Tokenizer#decodeBytes}, so that decode and
     * {@link IncrementalDecoder} can never disagree. {@code new String(bytes, UTF_8)} replaces every
     * malformed sequence with U+FFFD.
     */
    static String decodeByPieces(Tokenizer t, int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        int prev = -1;
        for (int id : ids) {
            out.writeBytes(t.decodeBytes(prev, id));
            prev = id;
        }
        return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }

    static void checkId(Tokenizer t, int id) {
        if (id < 0 || id >= t.vocabSize()) {
            throw new IllegalArgumentException("token id " + id + " outside vocabulary [0, " + t.vocabSize() + ")");
        }
    }
}
