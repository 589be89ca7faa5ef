package io.basalt.tokenizer;

import java.util.List;

/** Small helpers for token-id arrays. */
public final class TokenIds {
    private TokenIds() {}

    /** The parts' ids, one after another. */
    public static int[] concat(List<int[]> parts) {
        int total = 0;
        for (int[] p : parts) total += p.length;
        int[] out = new int[total];
        int pos = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, pos, p.length);
            pos += p.length;
        }
        return out;
    }
}
