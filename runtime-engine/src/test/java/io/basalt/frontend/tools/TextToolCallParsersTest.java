package io.basalt.frontend.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.frontend.tools.ToolCallEvent.Content;
import io.basalt.frontend.tools.ToolCallEvent.ToolCallEnd;
import io.basalt.frontend.tools.ToolCallEvent.ToolCallStart;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Hermes and Llama-3 JSON text parsers: chunk sweeps, repeated functions, undeclared names, malformed and cut output. */
class TextToolCallParsersTest {
    static final List<String> DECLARED = List.of("get_weather", "get_time");

    static Supplier<TextToolCallParser> hermes() { return () -> new HermesToolParser(DECLARED, ToolCallIds.seeded(3)); }

    static Supplier<TextToolCallParser> llama() { return () -> new Llama3JsonToolParser(DECLARED, ToolCallIds.seeded(3)); }

    static List<ToolCallEvent> run(TextToolCallParser p, List<String> chunks) {
        List<ToolCallEvent> out = new ArrayList<>();
        for (String c : chunks) out.addAll(p.acceptText(c));
        out.addAll(p.finish());
        return out;
    }

    static ToolCallTurn whole(Supplier<TextToolCallParser> f, String output) { return ToolCallTurn.of(run(f.get(), List.of(output))); }

    /** Every split into two pieces, and one character at a time, reads as the whole output does. */
    static ToolCallTurn sweep(Supplier<TextToolCallParser> f, String output) {
        ToolCallTurn expected = whole(f, output);
        for (int cut = 0; cut <= output.length(); cut++) {
            assertEquals(expected, ToolCallTurn.of(run(f.get(), List.of(output.substring(0, cut), output.substring(cut)))),
                    "cut " + cut + " of " + output);
        }
        List<String> chars = output.codePoints().mapToObj(Character::toString).toList();
        List<ToolCallEvent> events = run(f.get(), chars);
        assertEquals(expected, ToolCallTurn.of(events), "one character at a time: " + output);
        assertWellFormed(events);
        return expected;
    }

    /** Each call: one start, then its arguments, then one end, and no call interleaved with another. */
    static void assertWellFormed(List<ToolCallEvent> events) {
        int open = -1, next = 0;
        for (ToolCallEvent e : events) {
            switch (e) {
                case ToolCallStart s -> {
                    assertEquals(-1, open, events.toString());
                    assertEquals(next++, s.index());
                    open = s.index();
                }
                case ToolCallEvent.ToolCallArguments a -> assertEquals(open, a.index(), events.toString());
                case ToolCallEnd end -> {
                    assertEquals(open, end.index(), events.toString());
                    open = -1;
                }
                default -> { }
            }
        }
        assertEquals(-1, open, "every call ends: " + events);
    }

    static void assertCall(ToolCallTurn t, int i, String name, String args) {
        assertEquals(name, t.toolCalls().get(i).name(), t.toString());
        assertEquals(args, t.toolCalls().get(i).argumentsJson(), t.toString());
        assertTrue(ToolCallIds.isWellFormed(t.toolCalls().get(i).id()));
    }

    @Test
    void hermesTwoCallsOfTheSameFunctionWithTextAround() {
        String a1 = "{\"city\": \"Paris\", \"units\": [\"c\", 1.5e3], \"note\": \"a } and a \\\" and <tool\"}";
        String a2 = "{ \"city\" :\"東京 🌧️\" }";
        String out = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + a1 + "}\n</tool_call>\n"
                + "<tool_call>\n{\"name\":\"get_weather\",\"arguments\":" + a2 + "}\n</tool_call>\nDone.";
        ToolCallTurn t = sweep(hermes(), out);
        assertEquals(2, t.toolCalls().size());
        assertCall(t, 0, "get_weather", a1);
        assertCall(t, 1, "get_weather", a2);
        assertNotEquals(t.toolCalls().get(0).id(), t.toolCalls().get(1).id());
        assertEquals("Let me check.\n\n\nDone.", t.content());
    }

    @Test
    void hermesNeverLeaksAHalfTagIntoContent() {
        String out = "Hi <tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>";
        for (int cut = 0; cut <= out.length(); cut++) {
            TextToolCallParser p = hermes().get();
            List<ToolCallEvent> first = p.acceptText(out.substring(0, cut));
            for (ToolCallEvent e : first) if (e instanceof Content c) assertTrue("Hi ".startsWith(c.text()), "cut " + cut + ": " + c);
        }
        ToolCallTurn t = sweep(hermes(), out);
        assertCall(t, 0, "get_time", "{}");
        assertEquals("Hi ", t.content());
        // a held prefix that turns out to be text is content after all, in order
        assertEquals("a <tool_ b <to", whole(hermes(), "a <tool_ b <to").content());
        assertEquals("x < y", sweep(hermes(), "x < y").content());
    }

    @Test
    void hermesUndeclaredOrMalformedTagsAreContent() {
        String undeclared = "<tool_call>\n{\"name\": \"launch\", \"arguments\": {\"n\": 1}}\n</tool_call>";
        ToolCallTurn t = sweep(hermes(), "a" + undeclared + "b");
        assertEquals(List.of(), t.toolCalls());
        assertEquals("a" + undeclared + "b", t.content());
        for (String bad : List.of("<tool_call>not json</tool_call>", "<tool_call></tool_call>", "<tool_call>{\"name\": 3}</tool_call>",
                "<tool_call>{\"arguments\": {}, \"name\": \"get_weather\"</tool_call>")) {
            ToolCallTurn b = sweep(hermes(), bad);
            assertEquals(List.of(), b.toolCalls(), bad);
            assertEquals(bad, b.content());
        }
        // the next tag still works after a bad one
        ToolCallTurn after = sweep(hermes(), "<tool_call>oops</tool_call><tool_call>{\"name\": \"get_time\"}</tool_call>");
        assertEquals("<tool_call>oops</tool_call>", after.content());
        assertCall(after, 0, "get_time", "{}");
    }

    @Test
    void hermesOtherKeyOrderAndParametersSynonym() {
        ToolCallTurn t = sweep(hermes(), "<tool_call>{\"arguments\": {\"city\": \"Oslo\"}, \"name\": \"get_weather\"}</tool_call>"
                + "<tool_call>{\"type\": \"function\", \"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}</tool_call>");
        assertCall(t, 0, "get_weather", "{\"city\": \"Oslo\"}");
        assertCall(t, 1, "get_weather", "{\"city\": \"Rome\"}");
        assertEquals("", t.content());
    }

    @Test
    void hermesTruncatedCallEndsAtFinish() {
        List<ToolCallEvent> events = run(hermes().get(), List.of("Sure. <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"ci",
                "ty\": \"Pa"));
        assertTrue(events.getLast() instanceof ToolCallEnd e && e.index() == 0, events.toString());
        ToolCallTurn t = ToolCallTurn.of(events);
        assertCall(t, 0, "get_weather", "{\"city\": \"Pa");
        assertEquals("Sure. ", t.content());
        // cut inside the closing tag: the tag's start is not arguments
        assertCall(sweep(hermes(), "<tool_call>{\"name\": \"get_time\", \"arguments\": {\"tz\": 1}}</tool_c"), 0, "get_time", "{\"tz\": 1}");
        // cut before the name is known: the tag was never a call, its text is content
        ToolCallTurn early = sweep(hermes(), "<tool_call>{\"name\": \"get_wea");
        assertEquals(List.of(), early.toolCalls());
        assertEquals("<tool_call>{\"name\": \"get_wea", early.content());
    }

    @Test
    void llamaCallsSeparatedBySemicolons() {
        String a1 = "{\"city\": \"Paris\"}", a2 = "{\"city\":\"Lyon\",\"days\":[1,2]}";
        String out = "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": " + a1 + "}; "
                + "{\"type\": \"function\", \"name\": \"get_weather\", \"arguments\": " + a2 + "}";
        ToolCallTurn t = sweep(llama(), out);
        assertEquals(2, t.toolCalls().size());
        assertCall(t, 0, "get_weather", a1);
        assertCall(t, 1, "get_weather", a2);
        assertEquals("", t.content());
        assertCall(sweep(llama(), "  \n{\"name\": \"get_time\", \"parameters\": {}}"), 0, "get_time", "{}");
    }

    @Test
    void llamaReadsCallsOnlyAtTheStart() {
        String prose = "  The answer: {\"name\": \"get_weather\", \"parameters\": {}}";
        ToolCallTurn t = sweep(llama(), prose);
        assertEquals(List.of(), t.toolCalls());
        assertEquals(prose, t.content());
        assertEquals("<|python", sweep(llama(), "<|python").content());     // a cut-short tag is text
        assertEquals("<|pythonic|>x", sweep(llama(), "<|pythonic|>x").content());
    }

    @Test
    void llamaUndeclaredMalformedAndTrailingText() {
        String json = "{\"answer\": 42, \"name\": 7}";
        ToolCallTurn notCall = sweep(llama(), json);
        assertEquals(List.of(), notCall.toolCalls());
        assertEquals(json, notCall.content());
        ToolCallTurn undeclared = sweep(llama(), "{\"name\": \"rm\", \"parameters\": {\"p\": \"/\"}};{\"name\": \"get_time\", \"parameters\": {}}");
        assertEquals("{\"name\": \"rm\", \"parameters\": {\"p\": \"/\"}}", undeclared.content());
        assertCall(undeclared, 0, "get_time", "{}");
        ToolCallTurn trailing = sweep(llama(), "{\"parameters\": {\"tz\": \"UTC\"}, \"name\": \"get_time\"}\nThat is all.");
        assertCall(trailing, 0, "get_time", "{\"tz\": \"UTC\"}");
        assertEquals("That is all.", trailing.content());
    }

    @Test
    void llamaTruncatedCallEndsAtFinish() {
        List<ToolCallEvent> events = run(llama().get(), List.of("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Lo"));
        assertTrue(events.getLast() instanceof ToolCallEnd, events.toString());
        assertCall(ToolCallTurn.of(events), 0, "get_weather", "{\"city\": \"Lo");
        ToolCallTurn early = sweep(llama(), "{\"name\": \"get_w");
        assertEquals(List.of(), early.toolCalls());
        assertEquals("{\"name\": \"get_w", early.content());
        assertEquals("", sweep(llama(), "").content());
    }

    @Test
    void formatsByNameAndByTemplate() {
        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.parse("hermes"));
        assertEquals(ToolCallFormat.LLAMA3_JSON, ToolCallFormat.parse(" llama3_json "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ToolCallFormat.parse("mistral"));
        assertTrue(e.getMessage().contains("hermes, llama3_json, harmony") && e.getMessage().contains("mistral"), e.getMessage());
        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.detect("{% for t in tools %}{{ t|tojson }}{% endfor %}<tool_call>"));
        assertEquals(ToolCallFormat.LLAMA3_JSON, ToolCallFormat.detect("{% if tools %}Respond as {\\\"name\\\": x, \\\"parameters\\\": y}{% endif %}"));
        assertEquals(ToolCallFormat.LLAMA3_JSON, ToolCallFormat.detect("{% if tools %}<|start_header_id|>ipython{% endif %}"));
        assertNull(ToolCallFormat.detect("<tool_call> but no tool list"));
        assertNull(ToolCallFormat.detect("{% if tools %}unknown format{% endif %}"));
        assertEquals(List.of("<|eom_id|>"), ToolCallFormat.LLAMA3_JSON.stopTokens());
        assertTrue(ToolCallFormat.HERMES.newTextParser(DECLARED, ToolCallIds.seeded(1)) instanceof HermesToolParser);
        assertThrows(IllegalStateException.class, () -> ToolCallFormat.HARMONY.newTextParser(DECLARED, ToolCallIds.seeded(1)));
        assertFalse(ToolCallFormat.names().isEmpty());
    }
}
