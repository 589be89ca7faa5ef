package io.basalt.engine;

import java.util.concurrent.Executor;

/**
 * One choice's state under a {@link TaggedGrammar} (docs/STRUCTURED.md §2, tagged constraints): outside a region it
 * watches the generated ids for a trigger and constrains nothing ({@link #mask()} is null); inside one it is the region's
 * {@link ChoiceGrammar}. The region closes when its value terminates; the choice itself never terminates here. Only ids
 * generated since the last region closed can form a trigger (the window is emptied when a region opens), and the prompt
 * never reaches it: the engine feeds only sampled ids to {@link #accept}.
 */
final class TaggedChoiceGrammar implements ChoiceConstraint {
    private final TaggedGrammar tags;
    private final int vocabSize;
    /** The last ids generated outside a region, a ring: {@code newest} is the last written, {@code count} are valid. */
    private final int[] recent;
    private int newest = -1;
    private int count;
    /** The open region, or null: free text. */
    private ChoiceGrammar region;
    private int regionTag = -1;
    private int regionsOpened;
    /** Shared by this choice's regions (one at a time, and no fill runs once a region's last token is accepted). */
    private long[] maskBuffer;

    TaggedChoiceGrammar(TaggedGrammar tags, int vocabSize) {
        this.tags = tags;
        this.vocabSize = vocabSize;
        this.recent = new int[tags.maxTrigger()];
    }

    @Override public void startFill(Executor pool) {
        ChoiceGrammar r = region;
        if (r != null) r.startFill(pool);
    }

    @Override public long[] mask() {
        ChoiceGrammar r = region;
        return r == null ? null : r.mask();
    }

    @Override public boolean isAccepting() {
        ChoiceGrammar r = region;
        return r == null || r.isAccepting();
    }

    @Override public boolean accept(int token) {
        ChoiceGrammar r = region;
        if (r != null) {
            if (!r.accept(token)) return false;
            if (r.isTerminated()) {
                region = null;
                regionTag = -1;
            }
            return true;
        }
        newest = newest + 1 == recent.length ? 0 : newest + 1;
        recent[newest] = token;
        if (count < recent.length) count++;
        int t = tags.match(recent, newest, count);
        if (t >= 0) open(t);
        return true;
    }

    private void open(int tag) {
        if (maskBuffer == null) maskBuffer = new long[(vocabSize + 63) >>> 6];
        region = new ChoiceGrammar(tags.grammar(tag), maskBuffer);
        regionTag = tag;
        regionsOpened++;
        count = 0;
        newest = -1;
    }

    /** Regions end, the choice does not: more free text (and regions) may follow. */
    @Override public boolean isTerminated() { return false; }

    /** The open region's tag, or -1 (tests, diagnostics). */
    int activeTag() { return regionTag; }

    /** How many regions have opened so far (tests, diagnostics). */
    int regionsOpened() { return regionsOpened; }
}
