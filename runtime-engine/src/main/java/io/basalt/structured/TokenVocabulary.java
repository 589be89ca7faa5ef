package io.basalt.structured;

import io.basalt.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Every token id's bytes, as the grammar sees them ({@code decodeBytes(-1, id)}), and a byte trie
 * over them in flat arrays. Special tokens (BOS/EOS, harmony's {@code <|…|>}, control pieces) and
 * tokens with no bytes are outside the grammar: they are never in the trie, so never allowed.
 */
public final class TokenVocabulary {
    final int size;
    final byte[][] bytes;          // null for special / empty tokens
    final boolean[] special;
    final String fingerprint;
    /** Every grammar token. */
    final Trie all;
    /** Tokens that are only plain JSON-string characters (no '"', '\\', control byte; whole UTF-8 characters). */
    final long[] plainMask;
    final int[] plainChars;        // code points of a plain token (0 if not plain)
    final int maxPlainChars;
    /** The other tokens, walked when the plain set is allowed wholesale (inside an unconstrained string). */
    final Trie nonPlain;
    /** The plain tokens alone, walked from a string state with a pattern (results cached per grammar). */
    final Trie plain;
    /** plainUpTo[k]: plain tokens of at most k characters (k < maxPlainChars), built on first use. */
    private final java.util.concurrent.atomic.AtomicReferenceArray<long[]> plainUpTo;

    private TokenVocabulary(byte[][] bytes, boolean[] special) {
        this.size = bytes.length;
        this.bytes = bytes;
        this.special = special;
        this.fingerprint = fingerprintOf(bytes, special);
        this.plainMask = new long[(size + 63) >>> 6];
        this.plainChars = new int[size];
        int maxChars = 0;
        boolean[] inAll = new boolean[size], inNonPlain = new boolean[size], inPlain = new boolean[size];
        for (int id = 0; id < size; id++) {
            if (bytes[id] == null) continue;
            inAll[id] = true;
            int chars = plainChars(bytes[id]);
            if (chars > 0) {
                plainMask[id >>> 6] |= 1L << id;
                plainChars[id] = chars;
                maxChars = Math.max(maxChars, chars);
                inPlain[id] = true;
            } else {
                inNonPlain[id] = true;
            }
        }
        this.maxPlainChars = maxChars;
        this.all = new Trie(bytes, inAll);
        this.nonPlain = new Trie(bytes, inNonPlain);
        this.plain = new Trie(bytes, inPlain);
        this.plainUpTo = new java.util.concurrent.atomic.AtomicReferenceArray<>(maxChars + 1);
    }

    /** Plain tokens of at most k code points (the whole plain set when k >= maxPlainChars). Do not modify. */
    long[] plainUpTo(int k) {
        if (k >= maxPlainChars) return plainMask;
        if (k <= 0) k = 0;
        long[] m = plainUpTo.get(k);
        if (m != null) return m;
        m = new long[plainMask.length];
        for (int id = 0; id < size; id++) {
            int c = plainChars[id];
            if (c > 0 && c <= k) m[id >>> 6] |= 1L << id;
        }
        plainUpTo.compareAndSet(k, null, m);
        return plainUpTo.get(k);
    }

    /** The vocabulary of {@code tokenizer}; special tokens are detected from the tokenizer's own rules. */
    public static TokenVocabulary of(Tokenizer tokenizer) {
        int n = tokenizer.vocabSize();
        byte[][] bytes = new byte[n][];
        boolean[] special = new boolean[n];
        if (tokenizer.bosId() >= 0 && tokenizer.bosId() < n) special[tokenizer.bosId()] = true;
        for (int e : tokenizer.eosIds()) if (e >= 0 && e < n) special[e] = true;
        for (int id = 0; id < n; id++) {
            if (special[id]) continue;
            byte[] b = tokenizer.decodeBytes(-1, id);
            if (b.length == 0) { special[id] = true; continue; }
            // Special-token text such as "<|start|>": the tokenizer maps the text to this one id only when
            // specials are enabled (plain encoding splits it into ordinary tokens).
            if (b.length >= 4 && b[0] == '<' && b[b.length - 1] == '>') {
                String text = new String(b, StandardCharsets.UTF_8);
                int[] withSpecials = tokenizer.encodeWithSpecials(text);
                if (withSpecials.length == 1 && withSpecials[0] == id) {
                    int[] plain = tokenizer.encode(text);
                    if (!(plain.length == 1 && plain[0] == id)) { special[id] = true; continue; }
                }
            }
            bytes[id] = b;
        }
        return new TokenVocabulary(bytes, special);
    }

    /** For tests and tools: a vocabulary from explicit bytes (null entries are special tokens). */
    public static TokenVocabulary ofBytes(byte[][] tokenBytes) {
        byte[][] b = tokenBytes.clone();
        boolean[] special = new boolean[b.length];
        for (int i = 0; i < b.length; i++) if (b[i] == null || b[i].length == 0) { special[i] = true; b[i] = null; }
        return new TokenVocabulary(b, special);
    }

    public int size() { return size; }

    /** The token's bytes, or null for a special token (never allowed by a grammar). */
    public byte[] bytes(int id) { return bytes[id] == null ? null : bytes[id].clone(); }

    public boolean isSpecial(int id) { return special[id]; }

    /** SHA-256 over every id's bytes and special flag: equal vocabularies, equal fingerprints. */
    public String fingerprint() { return fingerprint; }

    /** Number of longs of a mask. */
    public int maskWords() { return (size + 63) >>> 6; }

    private static int plainChars(byte[] b) {
        int chars = 0;
        for (int i = 0; i < b.length; ) {
            int c = b[i] & 0xFF;
            int len;
            if (c < 0x80) {
                if (c < 0x20 || c == '"' || c == '\\') return 0;
                len = 1;
            } else if (c >= 0xC2 && c <= 0xDF) len = 2;
            else if (c >= 0xE0 && c <= 0xEF) len = 3;
            else if (c >= 0xF0 && c <= 0xF4) len = 4;
            else return 0;
            if (i + len > b.length) return 0;
            if (len > 1) {
                int cp = c & (0x3F >> (len - 1));
                for (int k = 1; k < len; k++) {
                    int cc = b[i + k] & 0xFF;
                    if ((cc & 0xC0) != 0x80) return 0;
                    cp = (cp << 6) | (cc & 0x3F);
                }
                int min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
                if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
            }
            i += len;
            chars++;
        }
        return chars;
    }

    private static String fingerprintOf(byte[][] bytes, boolean[] special) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] len = new byte[4];
            for (int i = 0; i < bytes.length; i++) {
                int l = special[i] ? -1 : bytes[i].length;
                len[0] = (byte) (l >>> 24); len[1] = (byte) (l >>> 16); len[2] = (byte) (l >>> 8); len[3] = (byte) l;
                md.update(len);
                if (!special[i]) md.update(bytes[i]);
            }
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A byte trie in preorder: node i has byte {@code label[i]} and depth {@code depth[i]} (1 = a root
     * child); its subtree is {@code [i, skip[i])}; the tokens ending there are
     * {@code ids[tokStart[i] .. tokStart[i+1])}.
     */
    static final class Trie {
        final byte[] label;
        final int[] depth, skip, tokStart, ids;
        final int nodes, maxDepth;

        Trie(byte[][] bytes, boolean[] include) {
            Integer[] order = java.util.stream.IntStream.range(0, bytes.length).filter(i -> include[i]).boxed().toArray(Integer[]::new);
            Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
            int cap = 16;
            for (Integer id : order) cap += bytes[id].length;
            byte[] lab = new byte[cap];
            int[] dep = new int[cap], skp = new int[cap], tokCount = new int[cap + 1];
            int[] path = new int[1024];
            int n = 0, pathLen = 0, maxD = 0;
            byte[] prev = new byte[0];
            int[] tokNode = new int[order.length];
            for (int k = 0; k < order.length; k++) {
                byte[] b = bytes[order[k]];
                int lcp = 0;
                while (lcp < prev.length && lcp < b.length && prev[lcp] == b[lcp]) lcp++;
                while (pathLen > lcp) skp[path[--pathLen]] = n;
                for (int d = lcp; d < b.length; d++) {
                    lab[n] = b[d];
                    dep[n] = d + 1;
                    if (pathLen == path.length) path = Arrays.copyOf(path, pathLen * 2);
                    path[pathLen++] = n++;
                }
                maxD = Math.max(maxD, b.length);
                int node = path[pathLen - 1];
                tokNode[k] = node;
                tokCount[node]++;
                prev = b;
            }
            while (pathLen > 0) skp[path[--pathLen]] = n;
            this.nodes = n;
            this.maxDepth = maxD;
            this.label = Arrays.copyOf(lab, n);
            this.depth = Arrays.copyOf(dep, n);
            this.skip = Arrays.copyOf(skp, n);
            this.tokStart = new int[n + 1];
            for (int i = 0; i < n; i++) tokStart[i + 1] = tokStart[i] + tokCount[i];
            this.ids = new int[order.length];
            int[] fill = Arrays.copyOf(tokStart, n);
            for (int k = 0; k < order.length; k++) ids[fill[tokNode[k]]++] = order[k];
        }
    }
}
