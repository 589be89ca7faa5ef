package io.basalt.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.basalt.engine.sampling.StopStringMatcher.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringMatcherTest {
    private static Result r(String emit, boolean stopped) { return new Result(emit, stopped); }

    @Test
    void stopSplitAcrossThreeDeltasIsNeverEmitted() {
        StopStringMatcher m = new StopStringMatcher(List.of("STOP"));
        assertEquals(r("Hello ", false), m.accept("Hello S"));
        assertEquals(r("", false), m.accept("T"));
        assertEquals(r("", false), m.accept("O"));
        assertEquals(r("", true), m.accept("P and more"));
        assertEquals("STOP", m.matchedStop());
        assertEquals(r("", true), m.accept("ignored"));
        assertEquals("", m.flush());
    }

    @Test
    void textBeforeTheStopInTheSameDeltaIsEmitted() {
        StopStringMatcher m = new StopStringMatcher(List.of("\n\n"));
        assertEquals(r("ab", false), m.accept("ab"));
        assertEquals(r("cd", true), m.accept("cd\n\nef"));
    }

    @Test
    void aPartialMatchThatFailsIsEmittedLaterInFullAndInOrder() {
        StopStringMatcher m = new StopStringMatcher(List.of("</end>"));
        StringBuilder out = new StringBuilder();
        for (String d : List.of("x <", "/e", "n", "d!", " y </", "en", "d>")) {
            Result res = m.accept(d);
            out.append(res.emit());
            if (res.stopped()) break;
        }
        assertEquals("x </end! y ", out.toString());
        // The held part is released as soon as it stops matching, not later.
        StopStringMatcher m2 = new StopStringMatcher(List.of("abc"));
        assertEquals(r("", false), m2.accept("ab"));
        assertEquals(r("abx", false), m2.accept("x"));
        // A mismatch can still start a new match: "aab" is held as "ab".
        assertEquals(r("a", false), m2.accept("aab"));
        assertEquals(r("", true), m2.accept("c"));
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        StopStringMatcher m = new StopStringMatcher(List.of("world", "lo w", "o"));
        assertEquals(r("hel", true), m.accept("hello world")); // "lo w" at 3 beats "o" at 4 and "world" at 6
        assertEquals("lo w", m.matchedStop());
        StopStringMatcher sameStart = new StopStringMatcher(List.of("wor", "world"));
        assertEquals(r("hello ", true), sameStart.accept("hello world"));
        assertEquals("world", sameStart.matchedStop());
        StopStringMatcher split = new StopStringMatcher(List.of("later", "ab"));
        assertEquals(r("x", false), split.accept("xla"));
        assertEquals(r("la", true), split.accept("ab later"));
        assertEquals("ab", split.matchedStop());
    }

    @Test
    void stopAtTheVeryBeginning() {
        StopStringMatcher m = new StopStringMatcher(List.of("###"));
        assertEquals(r("", false), m.accept("#"));
        assertEquals(r("", true), m.accept("##tail"));
        StopStringMatcher whole = new StopStringMatcher(List.of("###"));
        assertEquals(r("", true), whole.accept("###"));
    }

    @Test
    void flushReturnsHeldTextAtTheEnd() {
        StopStringMatcher m = new StopStringMatcher(List.of("STOP"));
        assertEquals(r("done ", false), m.accept("done ST"));
        assertEquals("ST", m.flush());
        assertEquals("", m.flush());
        assertNull(m.matchedStop());
    }

    @Test
    void noStopsPassesEverythingThrough() {
        StopStringMatcher m = new StopStringMatcher(List.of());
        assertEquals(r("anything", false), m.accept("anything"));
        assertEquals("", m.flush());
    }

    @Test
    void unicodeStopsAndSurrogatePairs() {
        StopStringMatcher m = new StopStringMatcher(List.of("😀🎉", "終わり"));
        assertEquals(r("héllo ", false), m.accept("héllo 😀"));   // 😀 could start "😀🎉": held
        assertEquals(r("😀 日本", false), m.accept(" 日本"));     // it did not
        assertEquals(r("語", false), m.accept("語終"));
        assertEquals(r("", true), m.accept("わり!"));
        // A stop ending in the middle of an emoji's surrogate pair never splits the emitted pair.
        StopStringMatcher half = new StopStringMatcher(List.of("\uD83D\uDE00x"));
        assertEquals(r("a", false), half.accept("a\uD83D"));
        assertEquals(r("\uD83D\uDE00y", false), half.accept("\uDE00y"));
    }
}
