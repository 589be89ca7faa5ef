package io.basalt.structured;

import io.basalt.structured.Automaton.State;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A schema compiled against one vocabulary. Immutable and thread-safe; {@link #newMatcher()} gives
 * one matcher per sequence. Masks of states that repeat (the same stack, e.g. "after a comma in this
 * array") are cached here and shared by every matcher of the grammar.
 */
public final class CompiledGrammar {
    private static final long MASK_CACHE_BYTES = 32L << 20;

    final TokenVocabulary vocab;
    final Automaton automaton;
    private final String description;
    final ConcurrentHashMap<State, long[]> maskCache = new ConcurrentHashMap<>();
    private final int maxCachedMasks;
    /** Plain-token masks of a pattern string's body, by (node, DFA state, clamped characters left). */
    record PlainKey(Nodes.Str node, int dfa, int left) {}
    final ConcurrentHashMap<PlainKey, long[]> plainCache = new ConcurrentHashMap<>();

    CompiledGrammar(TokenVocabulary vocab, Automaton automaton, String description) {
        this.vocab = vocab;
        this.automaton = automaton;
        this.description = description;
        this.maxCachedMasks = (int) Math.max(16, MASK_CACHE_BYTES / (8L * vocab.maskWords()));
    }

    public Matcher newMatcher() { return new Matcher(this); }

    public TokenVocabulary vocabulary() { return vocab; }

    long[] cachedMask(State s) { return maskCache.get(s); }

    void cacheMask(State s, long[] mask) {
        if (maskCache.size() < maxCachedMasks) maskCache.putIfAbsent(s, mask);
    }

    long[] cachedPlain(PlainKey k) { return plainCache.get(k); }

    void cachePlain(PlainKey k, long[] mask) {
        if (plainCache.size() + maskCache.size() < maxCachedMasks) plainCache.putIfAbsent(k, mask);
    }

    @Override public String toString() { return "CompiledGrammar[" + description + "]"; }
}
