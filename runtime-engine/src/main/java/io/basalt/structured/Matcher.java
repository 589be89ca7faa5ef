package io.basalt.structured;

import io.basalt.structured.Automaton.Stack;
import io.basalt.structured.Automaton.State;
import io.basalt.structured.Automaton.StrF;
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
        if (plainStringState()) {
            System.arraycopy(vocab.plainMask, 0, allowed, 0, words);
            walk(vocab.nonPlain, allowed);
        } else {
            walk(vocab.all, allowed);
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

    /** Every stack in a string body where any plain character is fine: the plain-token set is allowed wholesale. */
    private boolean plainStringState() {
        for (Stack st : state.alts) {
            if (!(st.top instanceof StrF f)) return false;
            if (f.esc() != 0 || f.rem() != 0 || f.node().regex != null) return false;
            if (f.node().max != Integer.MAX_VALUE && f.node().max - f.len() < vocab.maxPlainChars) return false;
        }
        return true;
    }

    private void walk(Trie t, long[] allowed) {
        if (walk == null || walk.length < t.maxDepth + 1) walk = new State[Math.max(vocab.all.maxDepth, t.maxDepth) + 1];
        State[] st = walk;
        st[0] = state;
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
