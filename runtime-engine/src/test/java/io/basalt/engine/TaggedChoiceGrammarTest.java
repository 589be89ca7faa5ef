package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.Constraint;
import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.Limits;
import io.basalt.structured.SchemaCompiler;
import io.basalt.structured.TokenVocabulary;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Trigger detection and region life of {@link TaggedChoiceGrammar} on a toy vocabulary: ids 0–3 are special (no bytes;
 * 1–3 serve as trigger ids, like harmony's {@code <|constrain|>}/{@code <|message|>}), ids 4.. are the printable ASCII
 * bytes. Also the {@link Constraint.Tagged} data checks.
 */
class TaggedChoiceGrammarTest {
    private static final int FIRST_CHAR = 4;
    private static final TokenVocabulary VOCAB;
    static {
        byte[][] b = new byte[FIRST_CHAR + 95][];
        for (int c = 32; c < 127; c++) b[FIRST_CHAR + c - 32] = new byte[] {(byte) c};
        VOCAB = TokenVocabulary.ofBytes(b);
    }
    private static final String SCHEMA = """
            {"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":9}},"required":["a"],"additionalProperties":false}""";
    private static final CompiledGrammar GRAMMAR = SchemaCompiler.compile(SCHEMA, VOCAB, Limits.DEFAULT, SchemaCompiler.Whitespace.COMPACT);
    private static final CompiledGrammar LIST = SchemaCompiler.compile("{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"maxItems\":2}",
            VOCAB, Limits.DEFAULT, SchemaCompiler.Whitespace.COMPACT);

    private static int id(char c) { return FIRST_CHAR + c - 32; }

    private static TaggedChoiceGrammar choice(int[][] triggers, CompiledGrammar... grammars) {
        return new TaggedChoiceGrammar(new TaggedGrammar(triggers, grammars), VOCAB.size());
    }

    private static boolean allows(long[] mask, int id) { return (mask[id >>> 6] & (1L << id)) != 0; }

    /** Feeds free text: each id leaves the choice unconstrained. */
    private static void free(TaggedChoiceGrammar g, int... ids) {
        for (int t : ids) {
            assertNull(g.mask(), "free text is unconstrained");
            assertTrue(g.accept(t));
        }
    }

    /** Feeds a region's text: each token must be in the mask; returns the mask seen before each token. */
    private static void region(TaggedChoiceGrammar g, String text) {
        for (char c : text.toCharArray()) {
            long[] mask = g.mask();
            assertNotNull(mask, "inside a region every token is masked: '" + c + "' of " + text);
            assertTrue(allows(mask, id(c)), "'" + c + "' allowed in " + text);
            assertTrue(g.accept(id(c)));
            assertFalse(g.isTerminated(), "a region never ends the choice");
        }
    }

    @Test
    void aTriggerSplitAcrossStepsOpensARegionThatClosesIntoFreeText() {
        TaggedChoiceGrammar g = choice(new int[][] {{2, 3}}, GRAMMAR);
        free(g, id('h'), id('i'), 2);
        assertEquals(-1, g.activeTag(), "half a trigger opens nothing");
        assertTrue(g.accept(3));
        assertEquals(0, g.activeTag());
        long[] first = g.mask();
        assertTrue(allows(first, id('{')));
        assertFalse(allows(first, id(' ')), "compact: no whitespace before the value");
        assertFalse(allows(first, id('h')));
        assertFalse(allows(first, 0), "special ids are never grammar bytes");
        assertFalse(g.isAccepting());
        region(g, "{\"a\":7");
        assertFalse(allows(g.mask(), id(' ')), "compact: no whitespace inside");
        assertFalse(g.isAccepting(), "an open object is not complete");
        region(g, "}");
        assertEquals(-1, g.activeTag(), "the value terminated: the region closed");
        assertNull(g.mask());
        free(g, id('o'), id('k'), 0);
        assertFalse(g.isTerminated());
        assertEquals(1, g.regionsOpened());
    }

    @Test
    void theFillCanRunOnAPoolAndIsJoinedBeforeSampling() {
        // a grammar of its own: its mask cache starts empty
        CompiledGrammar fresh = SchemaCompiler.compile(SCHEMA, VOCAB, Limits.DEFAULT, SchemaCompiler.Whitespace.COMPACT);
        TaggedChoiceGrammar g = choice(new int[][] {{1}}, fresh);
        List<Runnable> queued = new ArrayList<>();
        g.startFill(queued::add);
        assertTrue(queued.isEmpty(), "nothing to fill outside a region");
        g.accept(1);
        g.startFill(queued::add);
        assertEquals(1, queued.size(), "a region fills an uncached mask on the pool");
        queued.getFirst().run();
        assertTrue(allows(g.mask(), id('{')));
        // the same state again (another choice): its mask is cached now, copied at once, nothing handed to the pool
        TaggedChoiceGrammar h = choice(new int[][] {{1}}, fresh);
        h.accept(1);
        h.startFill(queued::add);
        assertEquals(1, queued.size(), "a cached mask is not handed off");
        assertTrue(allows(h.mask(), id('{')));
    }

    @Test
    void twoRegionsInOneOutputEachFollowTheirOwnTagsSchema() {
        TaggedChoiceGrammar g = choice(new int[][] {{1, 3}, {2, 3}}, GRAMMAR, LIST);
        free(g, id('x'), 1);
        g.accept(3);
        assertEquals(0, g.activeTag());
        region(g, "{\"a\":1}");
        free(g, id(' '), id('a'), id('n'), id('d'), id(' '), 2);
        g.accept(3);
        assertEquals(1, g.activeTag(), "the second trigger opens the second tag's region");
        assertFalse(allows(g.mask(), id('{')), "the list schema, not the object's");
        region(g, "[true,false]");
        assertEquals(-1, g.activeTag());
        assertEquals(2, g.regionsOpened());
        free(g, id('.'));
    }

    @Test
    void atTheSameTokenTheLongestTriggerWinsAndAnEarlierCompletedTriggerWinsOverALongerOne() {
        // [3] is a suffix of [2, 3]: both complete at the 3 after a 2, the longer wins; after anything else, [3] does.
        TaggedChoiceGrammar g = choice(new int[][] {{3}, {2, 3}}, GRAMMAR, LIST);
        free(g, 2);
        g.accept(3);
        assertEquals(1, g.activeTag());
        region(g, "[]");
        free(g, id('z'));
        g.accept(3);
        assertEquals(0, g.activeTag());

        // [2] is a prefix of [2, 1]: it completes first and wins, whatever follows.
        TaggedChoiceGrammar h = choice(new int[][] {{2, 1}, {2}}, GRAMMAR, LIST);
        h.accept(2);
        assertEquals(1, h.activeTag());
    }

    @Test
    void overlappingOccurrencesStillFindTheTrigger() {
        // 1 1 2: the window slides, so a trigger that starts inside a false start is found.
        TaggedChoiceGrammar g = choice(new int[][] {{1, 2}}, GRAMMAR);
        free(g, 1, 1);
        g.accept(2);
        assertEquals(0, g.activeTag());
        // 1 3 1 3 2 with trigger [1 3 2]: the first [1 3] is a false start, the second completes.
        TaggedChoiceGrammar h = choice(new int[][] {{1, 3, 2}}, GRAMMAR);
        free(h, 1, 3, 1, 3);
        h.accept(2);
        assertEquals(0, h.activeTag());
    }

    @Test
    void idsBeforeARegionNeverCompleteATriggerAfterIt() {
        // 2 1 opens tag 0; after its region, a 3 must not complete [1 3] with the 1 from before the region.
        TaggedChoiceGrammar g = choice(new int[][] {{2, 1}, {1, 3}}, GRAMMAR, LIST);
        free(g, 2);
        g.accept(1);
        assertEquals(0, g.activeTag());
        region(g, "{\"a\":0}");
        free(g, 3, id('.'));
        assertEquals(-1, g.activeTag());
        assertEquals(1, g.regionsOpened());
    }

    @Test
    void aFreshChoiceHasSeenNoIdsSoAPromptEndingInATriggerPrefixCountsForNothing() {
        // The engine feeds only generated ids: a prompt ending with 2 followed by a generated 3 is not [2 3].
        TaggedChoiceGrammar g = choice(new int[][] {{2, 3}}, GRAMMAR);
        free(g, 3, id('a'));
        assertEquals(0, g.regionsOpened());
    }

    @Test
    void inARegionTheStopIdsWaitForACompleteValue() {
        TaggedChoiceGrammar g = choice(new int[][] {{1}}, LIST);
        assertTrue(g.isAccepting(), "free text: the stop ids are allowed as usual");
        g.accept(1);
        assertFalse(g.isAccepting());
        region(g, "[true");
        assertFalse(g.isAccepting());
        region(g, "]");
        assertNull(g.mask());
    }

    @Test
    void taggedConstraintDataIsCheckedAndCopied() {
        int[] trigger = {1, 2};
        Constraint.Tag tag = new Constraint.Tag(trigger, "{}");
        trigger[0] = 9;
        assertArrayEquals(new int[] {1, 2}, tag.trigger(), "the trigger is copied in");
        tag.trigger()[0] = 9;
        assertArrayEquals(new int[] {1, 2}, tag.trigger(), "and out");
        assertEquals(tag, new Constraint.Tag(new int[] {1, 2}, "{}"), "equal by content");
        assertEquals(tag.hashCode(), new Constraint.Tag(new int[] {1, 2}, "{}").hashCode());
        assertNotEquals(tag, new Constraint.Tag(new int[] {1, 3}, "{}"));
        assertEquals(new Constraint.Tagged(List.of(tag)), new Constraint.Tagged(List.of(new Constraint.Tag(new int[] {1, 2}, "{}"))));
        assertThrows(IllegalArgumentException.class, () -> new Constraint.Tag(new int[0], "{}"));
        assertThrows(IllegalArgumentException.class, () -> new Constraint.Tag(new int[] {1}, " "));
        assertThrows(NullPointerException.class, () -> new Constraint.Tag(null, "{}"));
        assertThrows(IllegalArgumentException.class, () -> new Constraint.Tagged(List.of()));
        var dup = assertThrows(IllegalArgumentException.class,
                () -> new Constraint.Tagged(List.of(tag, new Constraint.Tag(new int[] {1, 2}, "{\"type\":\"object\"}"))));
        assertTrue(dup.getMessage().contains("same trigger"), dup.getMessage());
        List<Constraint.Tag> tags = new ArrayList<>(List.of(tag));
        Constraint.Tagged t = new Constraint.Tagged(tags);
        tags.clear();
        assertEquals(1, t.tags().size(), "the list is copied");
    }
}
