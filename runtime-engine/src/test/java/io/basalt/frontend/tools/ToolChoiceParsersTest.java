package io.basalt.frontend.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** NamedCallParser and RequiredCallsParser: whole vs every split point, several calls, whitespace, truncation, garbage. */
class ToolChoiceParsersTest {
    static final Set<String> NAMES = Set.of("a", "b", "ab");

    static RequiredCallsParser required() { return new RequiredCallsParser(NAMES, ToolCallIds.seeded(5)); }

    static List<ToolCallEvent> feed(TextToolCallParser p, String... parts) {
        List<ToolCallEvent> out = new ArrayList<>();
        for (String s : parts) out.addAll(p.acceptText(s));
        out.addAll(p.finish());
        return out;
    }

    /** The turn of the whole text, after checking that every two-piece split and a char-by-char feed give the same. */
    static ToolCallTurn turn(Supplier<? extends TextToolCallParser> parser, String text) {
        List<ToolCallEvent> whole = feed(parser.get(), text);
        ToolCallTurn want = ToolCallTurn.of(whole);
        checkWellFormed(whole);
        for (int i = 0; i <= text.length(); i++) {
            List<ToolCallEvent> split = feed(parser.get(), text.substring(0, i), text.substring(i));
            checkWellFormed(split);
            assertEquals(want, ToolCallTurn.of(split), "split at " + i + " of " + text);
        }
        String[] chars = text.split("");
        assertEquals(want, ToolCallTurn.of(feed(parser.get(), chars)), "char by char: " + text);
        return want;
    }

    /** Each call: Start first, End last, arguments only in between. */
    static void checkWellFormed(List<ToolCallEvent> events) {
        java.util.Map<Integer, Integer> state = new java.util.HashMap<>();   // 1 open, 2 ended
        for (ToolCallEvent e : events) {
            switch (e) {
                case ToolCallEvent.ToolCallStart s -> assertEquals(null, state.put(s.index(), 1), "start twice " + s);
                case ToolCallEvent.ToolCallArguments a -> assertEquals(1, state.get(a.index()), "arguments outside a call " + a);
                case ToolCallEvent.ToolCallEnd d -> assertEquals(1, state.put(d.index(), 2), "end without start " + d);
                default -> { }
            }
        }
        state.forEach((i, s) -> assertEquals(2, s, "call " + i + " not ended"));
    }

    static void assertCalls(ToolCallTurn t, String... nameArgs) {
        assertEquals(nameArgs.length / 2, t.toolCalls().size(), t.toString());
        for (int i = 0; i < nameArgs.length; i += 2) {
            ToolCall c = t.toolCalls().get(i / 2);
            assertEquals(nameArgs[i], c.name(), t.toString());
            assertEquals(nameArgs[i + 1], c.argumentsJson(), t.toString());
            assertTrue(ToolCallIds.isWellFormed(c.id()));
        }
    }

    @Test
    void namedIsOneCallOfTheWholeText() {
        ToolCallTurn t = turn(() -> new NamedCallParser("a", ToolCallIds.seeded(1)), "{\"x\": [1, \"}\"]}");
        assertCalls(t, "a", "{\"x\": [1, \"}\"]}");
        assertEquals("", t.content());
        NamedCallParser empty = new NamedCallParser("a", ToolCallIds.seeded(1));
        List<ToolCallEvent> events = empty.finish();
        assertInstanceOf(ToolCallEvent.ToolCallStart.class, events.get(0));
        assertEquals(1, empty.callCount());
        assertCalls(ToolCallTurn.of(events), "a", "");
        assertEquals(List.of(), empty.finish());
        NamedCallParser p = new NamedCallParser("a", ToolCallIds.seeded(1));
        assertInstanceOf(ToolCallEvent.ToolCallStart.class, p.acceptText("").get(0));
    }

    @Test
    void severalCallsInEitherKeyOrder() {
        ToolCallTurn t = turn(ToolChoiceParsersTest::required,
                "[{\"name\":\"a\",\"parameters\":{\"x\": 1}},{\"parameters\":{\"y\":\"}{\\\"\",\"z\":[{}]},\"name\":\"b\"},"
                + "{\"name\":\"a\",\"parameters\":{}}]");
        assertCalls(t, "a", "{\"x\": 1}", "b", "{\"y\":\"}{\\\"\",\"z\":[{}]}", "a", "{}");
        assertEquals("", t.content());
    }

    @Test
    void whitespaceAnywhereAndOtherKeysSkipped() {
        ToolCallTurn t = turn(ToolChoiceParsersTest::required,
                "\n [ {\n \"name\" : \"a\\u0062\" ,\t\"extra\": [1, {\"name\": \"b\"}], \"parameters\" :\n{ \"k\" : null } } ,"
                + "{\"parameters\":7 ,\"name\":\"a\"}\r\n]\n ");
        assertCalls(t, "ab", "{ \"k\" : null }", "a", "7");
        assertEquals("", t.content());
    }

    @Test
    void truncatedOutputClosesTheOpenCall() {
        RequiredCallsParser p = required();
        ToolCallTurn t = turn(ToolChoiceParsersTest::required, "[{\"name\":\"a\",\"parameters\":{}},{\"name\":\"b\",\"parameters\":{\"x\":\"ab");
        assertCalls(t, "a", "{}", "b", "{\"x\":\"ab");
        List<ToolCallEvent> events = feed(p, "[{\"name\":\"b\",\"param");
        assertEquals(1, p.callCount());
        assertInstanceOf(ToolCallEvent.ToolCallEnd.class, events.getLast());
        // cut before its name: the held parameters are not a call
        ToolCallTurn noName = turn(ToolChoiceParsersTest::required, "[{\"parameters\":{\"x\":1}");
        assertCalls(noName, new String[0]);
        assertEquals("{\"parameters\":{\"x\":1}", noName.content());
        assertCalls(turn(ToolChoiceParsersTest::required, "[{\"na"), new String[0]);
    }

    @Test
    void garbageDegradesToContentWithoutThrowing() {
        ToolCallTurn prose = turn(ToolChoiceParsersTest::required, "Sorry, I can't.");
        assertCalls(prose, new String[0]);
        assertEquals("Sorry, I can't.", prose.content());
        ToolCallTurn undeclared = turn(ToolChoiceParsersTest::required, "[{\"name\":\"zzz\",\"parameters\":{}},{\"name\":\"a\",\"parameters\":{}}]");
        assertCalls(undeclared, "a", "{}");
        assertEquals("{\"name\":\"zzz\",\"parameters\":{}}", undeclared.content());
        ToolCallTurn broken = turn(ToolChoiceParsersTest::required, "[{\"name\":\"a\",\"parameters\":{\"x\":1}} oops ]");
        assertCalls(broken, "a", "{\"x\":1}");
        assertEquals("oops ]", broken.content());
        ToolCallTurn midCall = turn(ToolChoiceParsersTest::required, "[{\"name\":\"a\" x");
        assertCalls(midCall, "a", "");
        assertEquals("x", midCall.content());
        ToolCallTurn nonStringName = turn(ToolChoiceParsersTest::required, "[{\"name\":1,\"parameters\":{}}]");
        assertCalls(nonStringName, new String[0]);
        assertEquals("{\"name\":1,\"parameters\":{}}", nonStringName.content());
        ToolCallTurn after = turn(ToolChoiceParsersTest::required, "[] trailing");
        assertEquals("trailing", after.content());
    }
}
