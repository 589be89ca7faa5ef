package io.basalt.structured;

import io.basalt.structured.Automaton.Stack;
import io.basalt.structured.Automaton.State;
import io.basalt.structured.Automaton.StrF;
import io.basalt.structured.Nodes.Str;
import io.basalt.structured.TokenVocabulary.Trie;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One sequence's position in a grammar. Not thread-safe (one per sequence); the grammar it came from
 * is shared. A token is allowed iff all its bytes can be consumed from the current state.
 */
public final class Matcher {
    private final CompiledGrammar grammar;
    private final Automaton automaton;
    private final TokenVocabulary vocab;
    private final List<Stack> scratch = new ArrayList<>();
    private State state;
    private State[] walk;

    Matcher(CompiledGrammar grammar) {
        this.grammar = grammar;
        this.automaton = grammar.automaton;
        this.vocab = grammar.vocab;
        this.state = automaton.initial();
    }

    /**
     * {@link #fillMask} when this state's mask is already cached (a copy, cheaper than handing the fill to another
     * thread); false, with {@code allowed} untouched, when it would have to be computed.
     */
    public boolean fillMaskIfCached(long[] allowed) {
        int words = vocab.maskWords();
        long[] cached = grammar.cachedMask(state);
        if (cached == null || allowed.length < words) return false;
        System.arraycopy(cached, 0, allowed, 0, words);
        Arrays.fill(allowed, words, allowed.length, 0L);
        return true;
    }

    /** Sets bit i of {@code allowed} iff token i may come next ({@code allowed.length} ≥ ceil(vocab / 64)). */
    public void fillMask(long[] allowed) {
        int words = vocab.maskWords();
        if (allowed.length < words) throw new IllegalArgumentException("mask of " + allowed.length + " longs, need " + words);
        long[] cached = grammar.cachedMask(state);
        if (cached != null) {
            System.arraycopy(cached, 0, allowed, 0, words);
            Arrays.fill(allowed, words, allowed.length, 0L);
            return;
        }
        Arrays.fill(allowed, 0L);
        if (stringBodyState()) {
            // Plain tokens stay inside the string, so each stack's share of them depends on its string frame alone.
            for (Stack st : state.alts) {
                long[] part = plainPart((StrF) st.top);
                for (int i = 0; i < words; i++) allowed[i] |= part[i];
            }
            walk(vocab.nonPlain, allowed, state);
        } else {
            walk(vocab.all, allowed, state);
        }
        grammar.cacheMask(state, Arrays.copyOf(allowed, words));
    }

    /** Advances by one token; false (and no change) when the token is not allowed. */
    public boolean accept(int tokenId) {
        if (tokenId < 0 || tokenId >= vocab.size) return false;
        byte[] b = vocab.bytes[tokenId];
        if (b == null) return false;
        State s = state;
        for (byte x : b) {
            s = automaton.advance(s, x & 0xFF, scratch);
            if (s == null) return false;
        }
        state = s;
        return true;
    }

    /** Whether a single token may come next (no mask needed). */
    public boolean allows(int tokenId) {
        if (tokenId < 0 || tokenId >= vocab.size || vocab.bytes[tokenId] == null) return false;
        State s = state;
        for (byte x : vocab.bytes[tokenId]) {
            s = automaton.advance(s, x & 0xFF, scratch);
            if (s == null) return false;
        }
        return true;
    }

    /** A complete value: EOS/stop may be allowed now (the engine adds them). */
    public boolean isAccepting() { return automaton.accepting(state); }

    /** Nothing but EOS can follow. */
    public boolean isTerminated() { return automaton.terminated(state); }

    /** Every stack in a string body between characters (no escape or UTF-8 sequence under way). */
    private boolean stringBodyState() {
        for (Stack st : state.alts) {
            if (!(st.top instanceof StrF f) || f.esc() != 0 || f.rem() != 0) return false;
        }
        return true;
    }

    /**
     * The plain tokens a string frame takes: without a pattern, those of at most (maxLength - len)
     * characters; with one, a walk of the plain trie from that frame alone, cached per grammar by
     * (node, DFA state, characters left), the latter clamped where it can no longer matter
     * (maxPlainChars + the pattern's largest finite distance to acceptance).
     */
    private long[] plainPart(StrF f) {
        Str node = f.node();
        if (node.regex == null) return node.max == Integer.MAX_VALUE ? vocab.plainMask : vocab.plainUpTo(node.max - f.len());
        int left = node.max == Integer.MAX_VALUE ? Integer.MAX_VALUE
                : Math.min(node.max - f.len(), vocab.maxPlainChars + node.regex.maxFiniteDist() + 1);
        CompiledGrammar.PlainKey key = new CompiledGrammar.PlainKey(node, f.dfa(), left);
        long[] part = grammar.cachedPlain(key);
        if (part != null) return part;
        part = new long[vocab.maskWords()];
        walkPlain(node, left == Integer.MAX_VALUE ? 0 : node.max - left, f.dfa(), part);
        grammar.cachePlain(key, part);
        return part;
    }

    private int[] pLen, pRem, pCp, pMin, pDfa;

    /**
     * The plain trie walked from a pattern string's body (len characters so far, DFA state dfa) with
     * the frame kept as ints per depth: the byte rules of {@code Automaton.strStep} for a string with a
     * pattern, restricted to what plain tokens hold (no quote, backslash or control byte).
     */
    private void walkPlain(Str node, int len0, int dfa0, long[] allowed) {
        Trie t = vocab.plain;
        Regex re = node.regex;
        int max = node.max;
        boolean bounded = max != Integer.MAX_VALUE;
        int d1 = t.maxDepth + 1;
        if (pLen == null || pLen.length < d1) { pLen = new int[d1]; pRem = new int[d1]; pCp = new int[d1]; pMin = new int[d1]; pDfa = new int[d1]; }
        int[] L = pLen, R = pRem, C = pCp, M = pMin, D = pDfa;
        L[0] = len0; R[0] = 0; C[0] = 0; M[0] = 0; D[0] = dfa0;
        byte[] label = t.label;
        int[] depth = t.depth, skip = t.skip, tokStart = t.tokStart, ids = t.ids;
        int n = t.nodes;
        for (int i = 0; i < n; ) {
            int p = depth[i] - 1, q = p + 1, b = label[i] & 0xFF;
            int len = L[p], rem = R[p], dfa = D[p];
            boolean ok;
            if (rem > 0) {
                ok = false;
                if ((b & 0xC0) == 0x80) {
                    int cp = (C[p] << 6) | (b & 0x3F);
                    int rem2 = rem - 1;
                    int lo = cp << (6 * rem2), hi = lo | ((1 << (6 * rem2)) - 1);
                    lo = Math.max(lo, M[p]);
                    hi = Math.min(hi, 0x10FFFF);
                    if (lo <= hi && !(lo >= 0xD800 && hi <= 0xDFFF)) {
                        if (rem2 == 0) {
                            int d2 = re.step(dfa, cp);
                            if (d2 >= 0 && !(bounded && len + re.minRemaining(d2) > max)) {
                                L[q] = len; R[q] = 0; C[q] = 0; M[q] = 0; D[q] = d2; ok = true;
                            }
                        } else if (re.anyLive(dfa, lo, hi, bounded ? max - len + 1 : Integer.MAX_VALUE)) {
                            L[q] = len; R[q] = rem2; C[q] = cp; M[q] = M[p]; D[q] = dfa; ok = true;
                        }
                    }
                }
            } else if (b < 0x20 || b == '"' || b == '\\' || len + 1 > max) {
                ok = false;
            } else if (b < 0x80) {
                int d2 = re.step(dfa, b);
                ok = d2 >= 0 && !(bounded && len + 1 + re.minRemaining(d2) > max);
                if (ok) { L[q] = len + 1; R[q] = 0; C[q] = 0; M[q] = 0; D[q] = d2; }
            } else {
                int r2, cp, cpMin;
                if (b >= 0xC2 && b <= 0xDF) { r2 = 1; cp = b & 0x1F; cpMin = 0x80; }
                else if (b >= 0xE0 && b <= 0xEF) { r2 = 2; cp = b & 0x0F; cpMin = 0x800; }
                else if (b >= 0xF0 && b <= 0xF4) { r2 = 3; cp = b & 0x07; cpMin = 0x10000; }
                else { r2 = 0; cp = 0; cpMin = 0; }
                ok = false;
                if (r2 > 0) {
                    int lo = Math.max(cp << (6 * r2), cpMin), hi = Math.min((cp << (6 * r2)) | ((1 << (6 * r2)) - 1), 0x10FFFF);
                    if (lo <= hi && re.anyLive(dfa, lo, hi, bounded ? max - (len + 1) + 1 : Integer.MAX_VALUE)) {
                        L[q] = len + 1; R[q] = r2; C[q] = cp; M[q] = cpMin; D[q] = dfa; ok = true;
                    }
                }
            }
            if (!ok) { i = skip[i]; continue; }
            for (int k = tokStart[i], e = tokStart[i + 1]; k < e; k++) {
                int id = ids[k];
                allowed[id >>> 6] |= 1L << id;
            }
            i++;
        }
    }

    private void walk(Trie t, long[] allowed, State start) {
        if (walk == null || walk.length < t.maxDepth + 1) walk = new State[Math.max(vocab.all.maxDepth, t.maxDepth) + 1];
        State[] st = walk;
        st[0] = start;
        byte[] label = t.label;
        int[] depth = t.depth, skip = t.skip, tokStart = t.tokStart, ids = t.ids;
        int n = t.nodes;
        for (int i = 0; i < n; ) {
            State s = automaton.advance(st[depth[i] - 1], label[i] & 0xFF, scratch);
            if (s == null) { i = skip[i]; continue; }
            st[depth[i]] = s;
            for (int k = tokStart[i], e = tokStart[i + 1]; k < e; k++) {
                int id = ids[k];
                allowed[id >>> 6] |= 1L << id;
            }
            i++;
        }
        Arrays.fill(st, null);
    }
}
