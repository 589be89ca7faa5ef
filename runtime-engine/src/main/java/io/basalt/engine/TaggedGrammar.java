package io.basalt.engine;

import io.basalt.structured.CompiledGrammar;

/**
 * A compiled {@link io.basalt.api.Constraint.Tagged}: per tag its trigger ids and its schema's grammar. Immutable; each
 * choice tracks its own state in a {@link TaggedChoiceGrammar}.
 */
final class TaggedGrammar implements CompiledConstraint {
    private final int[][] triggers;
    private final CompiledGrammar[] grammars;
    private final int maxTrigger;

    TaggedGrammar(int[][] triggers, CompiledGrammar[] grammars) {
        if (triggers.length == 0 || triggers.length != grammars.length) throw new IllegalArgumentException("one grammar per trigger");
        this.triggers = triggers.clone();
        this.grammars = grammars.clone();
        int max = 0;
        for (int[] t : this.triggers) max = Math.max(max, t.length);
        this.maxTrigger = max;
    }

    int numTags() { return triggers.length; }

    CompiledGrammar grammar(int tag) { return grammars[tag]; }

    /** The longest trigger's length: how many recent ids a choice keeps. */
    int maxTrigger() { return maxTrigger; }

    /**
     * The tag whose trigger the recent ids end with, or -1. {@code ring} holds the last {@code count} ids, the newest at
     * {@code newest}, older ones before it (wrapping). Several matching (one trigger a suffix of another): the longest.
     */
    int match(int[] ring, int newest, int count) {
        int best = -1, bestLen = 0;
        int cap = ring.length;
        for (int t = 0; t < triggers.length; t++) {
            int[] trig = triggers[t];
            int len = trig.length;
            if (len > count || len <= bestLen) continue;
            boolean ok = true;
            for (int k = 0, pos = newest; k < len; k++, pos = pos == 0 ? cap - 1 : pos - 1) {
                if (ring[pos] != trig[len - 1 - k]) { ok = false; break; }
            }
            if (ok) { best = t; bestLen = len; }
        }
        return best;
    }
}
