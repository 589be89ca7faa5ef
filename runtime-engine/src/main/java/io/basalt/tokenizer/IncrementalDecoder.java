package io.basalt.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Streams the text of one generated sequence. Byte-level tokenizers split characters across tokens
 * (an emoji is often 2–4 tokens of one or two bytes), so each call emits only whole UTF-8 characters
 * and holds back the bytes of an incomplete trailing character until the next token completes it.
 * Not thread-safe: one instance per sequence, used by the thread that streams it.
 */
public final class IncrementalDecoder {
    private final Tokenizer tokenizer;
    private int previousId;
    private byte[] pending = new byte[16];
    private int pendingLength;

    /** {@code previousId} is the last prompt token (so that e.g. "after BOS" rules apply), or -1. */
    public IncrementalDecoder(Tokenizer t, int previousId) {
        this.tokenizer = t;
        this.previousId = previousId;
    }

    /** Feeds one generated id; returns the text now complete (possibly ""), never half a character. */
    public String next(int id) {
        byte[] piece = tokenizer.decodeBytes(previousId, id);
        previousId = id;
        if (piece.length == 0 && pendingLength == 0) return "";
        append(piece);
        int complete = completePrefixLength(pending, pendingLength);
        if (complete == 0) return "";
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
        pendingLength -= complete;
        return text;
    }

    /** Anything still held back at the end of the sequence, with invalid bytes as U+FFFD. */
    public String flush() {
        String text = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        return text;
    }

    private void append(byte[] piece) {
        if (pendingLength + piece.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + piece.length));
        }
        System.arraycopy(piece, 0, pending, pendingLength, piece.length);
        pendingLength += piece.length;
    }

    /**
     * Length of the prefix of {@code b[0, n)} that can be emitted now: everything except a trailing
     * lead byte plus fewer continuation bytes than it announces. Bytes that can never become valid
     * (stray continuations, 0xF8..0xFF) are not held back; the String constructor turns them into U+FFFD.
     */
    static int completePrefixLength(byte[] b, int n) {
        // A UTF-8 character is at most 4 bytes, so only the last 3 bytes can be an unfinished one.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int lead = b[n - back] & 0xFF;
            if ((lead & 0xC0) == 0x80) continue;      // continuation byte: keep looking for its lead
            int need = sequenceLength(lead);
            return need > back ? n - back : n;        // unfinished only if the lead announces more
        }
        return n;                                     // ≥3 trailing continuations: nothing can complete them
    }

    private static int sequenceLength(int lead) {
        if (lead >= 0xC2 && lead <= 0xDF) return 2;
        if (lead >= 0xE0 && lead <= 0xEF) return 3;
        if (lead >= 0xF0 && lead <= 0xF4) return 4;
        return 1; // ASCII, or a byte that can never start a valid sequence
    }
}
