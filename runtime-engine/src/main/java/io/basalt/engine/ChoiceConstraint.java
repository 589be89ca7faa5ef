package io.basalt.engine;

import java.util.concurrent.Executor;

/**
 * One constrained choice's grammar state, as the step loop uses it: {@link ChoiceGrammar} (the whole output is one
 * value) or {@link TaggedChoiceGrammar} (free text with constrained regions). Confined to the step thread, except for the
 * mask fill it hands to the mask pool.
 */
sealed interface ChoiceConstraint permits ChoiceGrammar, TaggedChoiceGrammar {
    /** Starts filling the next token's mask on {@code pool} (before the forward pass); nothing when unconstrained now. */
    void startFill(Executor pool);

    /** The next token's mask (joins the fill), or null: the next token is unconstrained (no mask, stop ids as usual). */
    long[] mask();

    /** Whether the stop ids may end the choice now (asked only when {@link #mask()} is not null). */
    boolean isAccepting();

    /** Advances past the sampled token; false: the grammar does not allow it (an engine bug). */
    boolean accept(int token);

    /** Whether the choice must end now ({@code stop}): its value is complete and nothing can follow. */
    boolean isTerminated();
}
