package io.basalt.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE with llama2.c's rules (run.c {@code encode}/{@code decode}), shared by
 * tokenizer.bin files and GGUF "llama" vocabularies.
 *
 * <p>Pieces are kept as "byte strings": Latin-1 Strings whose chars are the piece's UTF-8 bytes. That
 * makes the merge lookup compare bytes exactly as llama2.c's strcmp does, even for pieces that are
 * not whole characters.
 */
final class SentencePieceBpe implements Tokenizer {
    /** What a vocabulary entry is (GGUF token_type, or inferred for tokenizer.bin). */
    enum Kind { NORMAL, UNKNOWN, CONTROL, BYTE }

    /** llama2.c starts its best score at -1e10 and needs a strictly greater one to merge. */
    private static final float NO_MERGE_SCORE = -1e10f;

    private final String name;
    private final String[] pieces;
    private final float[] scores;
    private final byte[][] output;          // what each id contributes to decoded text
    private final Map<String, Integer> ids; // byte string → id, for pieces that text may produce
    private final int[] byteIds;            // byte value → byte-fallback id, or -1
    private final int unknownId;
    private final int spaceId;              // the dummy-prefix piece " ", or -1
    private final int bosId;
    private final int[] eosIds;

    /**
     * @param pieces UTF-8 bytes of each piece, with SentencePiece's U+2581 already replaced by ' '
     * @param byteIds byte value → id of the token for that raw byte (or -1 where the vocab has none)
     */
    SentencePieceBpe(String name, byte[][] pieces, float[] scores, Kind[] kinds, int[] byteIds,
                     int unknownId, int bosId, int[] eosIds) {
        this.name = name;
        int n = pieces.length;
        this.pieces = new String[n];
        this.scores = scores.clone();
        this.output = new byte[n][];
        this.ids = HashMap.newHashMap(n);
        for (int id = 0; id < n; id++) {
            String piece = new String(pieces[id], StandardCharsets.ISO_8859_1);
            this.pieces[id] = piece;
            output[id] = switch (kinds[id]) {
                case CONTROL -> DecodeSupport.EMPTY;
                case BYTE -> rawByte(piece, pieces[id]);
                case NORMAL, UNKNOWN -> pieces[id];
            };
            // First id wins on duplicates, as a stable choice; control and unknown pieces never come from text.
            if (kinds[id] == Kind.NORMAL || kinds[id] == Kind.BYTE) ids.putIfAbsent(piece, id);
        }
        this.byteIds = byteIds.clone();
        this.unknownId = unknownId;
        this.spaceId = ids.getOrDefault(" ", -1);
        this.bosId = bosId;
        this.eosIds = eosIds.clone();
    }

    /** The byte named by a "&lt;0xHH&gt;" piece (llama2.c: sscanf "&lt;0x%02hhX&gt;"), or the piece itself. */
    static byte[] rawByte(String piece, byte[] fallback) {
        int b = parseBytePiece(piece);
        return b < 0 ? fallback : new byte[] {(byte) b};
    }

    /** 0..255 for a piece of the form "&lt;0xHH&gt;", else -1. */
    static int parseBytePiece(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') return -1;
        int hi = Character.digit(piece.charAt(3), 16), lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** The piece as a byte string (see class comment), for tests and diagnostics. */
    String piece(int id) { return pieces[id]; }

    float score(int id) { return scores[id]; }

    @Override public String name() { return name; }
    @Override public int vocabSize() { return pieces.length; }
    @Override public int bosId() { return bosId; }
    @Override public int[] eosIds() { return eosIds.clone(); }

    @Override
    public int[] encode(String text) {
        if (text.isEmpty()) return new int[0];
        IntBuffer tokens = new IntBuffer(text.length() + 1);
        // Dummy prefix: SentencePiece treats the text as if it began with a word boundary.
        if (spaceId >= 0) tokens.add(spaceId); else appendBytes(tokens, new byte[] {' '});
        // One token per code point, falling back to one token per UTF-8 byte.
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
            Integer id = ids.get(new String(utf8, StandardCharsets.ISO_8859_1));
            if (id != null) tokens.add(id); else appendBytes(tokens, utf8);
        }
        return merge(tokens.toArray());
    }

    @Override
    public int[] encodeWithSpecials(String text) {
        // llama2.c has no special-token syntax in text: BOS/EOS are added by the caller as ids.
        return encode(text);
    }

    private void appendBytes(IntBuffer tokens, byte[] bytes) {
        for (byte b : bytes) {
            int id = byteIds[b & 0xFF] >= 0 ? byteIds[b & 0xFF] : unknownId;
            if (id < 0) throw new IllegalArgumentException("vocabulary has no token for byte " + (b & 0xFF));
            tokens.add(id);
        }
    }

    /** A possible merge of symbol {@code left} with its right neighbour, valid while both are unchanged. */
    private record Candidate(float score, int left, int right, int merged, int leftVersion, int rightVersion) {}

    /**
     * Repeatedly merges the adjacent pair whose concatenation is a piece with the highest score,
     * leftmost on ties: the same result as llama2.c's full rescan per merge, but O(n log n) with a
     * heap. Symbols stay at their original index in a linked list, so index order is text order and
     * "smallest left index" is "leftmost".
     */
    private int[] merge(int[] symbols) {
        int n = symbols.length;
        int[] next = new int[n], prev = new int[n], version = new int[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
        PriorityQueue<Candidate> heap = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) offer(heap, symbols, version, i, i + 1);
        while (!heap.isEmpty()) {
            Candidate c = heap.poll();
            if (symbols[c.left] < 0 || symbols[c.right] < 0
                    || version[c.left] != c.leftVersion || version[c.right] != c.rightVersion) continue;
            symbols[c.left] = c.merged;
            version[c.left]++;
            symbols[c.right] = -1;
            next[c.left] = next[c.right];
            if (next[c.left] >= 0) prev[next[c.left]] = c.left;
            if (prev[c.left] >= 0) offer(heap, symbols, version, prev[c.left], c.left);
            if (next[c.left] >= 0) offer(heap, symbols, version, c.left, next[c.left]);
        }
        return Arrays.stream(symbols).filter(id -> id >= 0).toArray();
    }

    private void offer(PriorityQueue<Candidate> heap, int[] symbols, int[] version, int left, int right) {
        Integer merged = ids.get(pieces[symbols[left]] + pieces[symbols[right]]);
        if (merged != null && scores[merged] > NO_MERGE_SCORE) {
            heap.add(new Candidate(scores[merged], left, right, merged, version[left], version[right]));
        }
    }

    @Override
    public byte[] decodeBytes(int previousId, int id) {
        DecodeSupport.checkId(this, id);
        byte[] out = output[id];
        // SentencePiece's decoder strips the leading space of the first piece after BOS.
        if (previousId == bosId && out.length > 0 && out[0] == ' ' && parseBytePiece(pieces[id]) < 0) {
            return Arrays.copyOfRange(out, 1, out.length);
        }
        return out.clone(); // the tokenizer is shared: callers must not be able to change its pieces
    }

    @Override
    public String decode(int[] ids) { return DecodeSupport.decodeByPieces(this, ids); }

    /** A growable int list, to avoid boxing while building token sequences. */
    private static final class IntBuffer {
        private int[] data;
        private int size;
        IntBuffer(int capacity) { data = new int[Math.max(4, capacity)]; }
        void add(int v) {
            if (size == data.length) data = Arrays.copyOf(data, size * 2);
            data[size++] = v;
        }
        int[] toArray() { return Arrays.copyOf(data, size); }
    }
}
