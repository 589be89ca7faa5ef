package io.basalt.engine;

import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.Matcher;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;

/**
 * One constrained choice's grammar state: its {@link Matcher} and the mask of the token it samples next. The mask is
 * filled on the mask pool ({@link #startFill}) while the step's forward pass runs and joined ({@link #mask}) before
 * sampling; the matcher is touched by one thread at a time (the fill's completion happens-before the join). Also the
 * state of one open region of a {@link TaggedChoiceGrammar}.
 */
final class ChoiceGrammar implements ChoiceConstraint {
    private final Matcher matcher;
    private final long[] mask;
    private FutureTask<Void> fill;
    private boolean filled;

    ChoiceGrammar(CompiledGrammar grammar, int vocabSize) {
        this(grammar, new long[(vocabSize + 63) >>> 6]);
    }

    /** A fresh matcher that fills {@code maskBuffer} (a tagged choice reuses one buffer for all its regions). */
    ChoiceGrammar(CompiledGrammar grammar, long[] maskBuffer) {
        this.matcher = grammar.newMatcher();
        this.mask = maskBuffer;
    }

    /** A new choice's state, its first mask copied from {@code first}'s (both matchers are at the start). */
    ChoiceGrammar(CompiledGrammar grammar, ChoiceGrammar first) {
        this.matcher = grammar.newMatcher();
        long[] m = first.mask();
        this.mask = m.clone();
        this.filled = true;
    }

    /** Starts filling the mask for the next token (step thread, before the forward pass). */
    @Override public void startFill(Executor pool) {
        if (filled || fill != null) return;
        // Most steps revisit a state whose mask is cached: copying it here costs less than a hand-off to the pool.
        if (matcher.fillMaskIfCached(mask)) {
            filled = true;
            return;
        }
        FutureTask<Void> task = new FutureTask<>(this::fillNow, null);
        fill = task;
        pool.execute(task);
    }

    private void fillNow() {
        java.util.Arrays.fill(mask, 0L);
        matcher.fillMask(mask);
    }

    /** The mask of the next token: joins the fill started by {@link #startFill}, or fills it here. */
    @Override public long[] mask() {
        if (filled) return mask;
        FutureTask<Void> task = fill;
        fill = null;
        if (task == null) {
            fillNow();
        } else {
            try {
                task.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while filling a grammar mask", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("filling the grammar mask failed: " + e.getCause(), e.getCause());
            }
        }
        filled = true;
        return mask;
    }

    @Override public boolean isAccepting() { return matcher.isAccepting(); }

    @Override public boolean isTerminated() { return matcher.isTerminated(); }

    /** Advances past the sampled token; false: the grammar does not allow it (an engine bug). */
    @Override public boolean accept(int token) {
        if (fill != null) mask();   // never advance the matcher under a fill still running
        filled = false;
        return matcher.accept(token);
    }
}
