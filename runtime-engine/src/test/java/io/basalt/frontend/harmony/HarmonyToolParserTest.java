package io.basalt.frontend.harmony;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCall;
import io.basalt.frontend.tools.ToolCallEvent;
import io.basalt.frontend.tools.ToolCallEvent.Content;
import io.basalt.frontend.tools.ToolCallEvent.Reasoning;
import io.basalt.frontend.tools.ToolCallEvent.ToolCallArguments;
import io.basalt.frontend.tools.ToolCallEvent.ToolCallEnd;
import io.basalt.frontend.tools.ToolCallEvent.ToolCallStart;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.frontend.tools.ToolCallTurn;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** STRUCTURED.md §6.3 items 2–4 and 6 for harmony: header variants, repeated recipient, chunk sweep, preamble vs call, fuzz. */
class HarmonyToolParserTest {
    private static final Harmony HARMONY = Harmony.gptOss();
    private static final Tokenizer TOK = Tokenizers.o200kHarmony();
    private static final List<String> DECLARED = List.of("get_weather", "lookup_weather");

    private static HarmonyToolParser parser() { return new HarmonyToolParser(HARMONY, DECLARED, ToolCallIds.seeded(7)); }

    private static List<ToolCallEvent> run(HarmonyToolParser p, int[] ids) {
        List<ToolCallEvent> out = new ArrayList<>();
        for (int id : ids) out.addAll(p.accept(id));
        out.addAll(p.finish());
        return out;
    }

    private static List<ToolCallEvent> run(String completion) { return run(parser(), TOK.encodeWithSpecials(completion)); }

    private static ToolCallTurn turn(String completion) { return ToolCallTurn.of(run(completion)); }

    private static void assertCall(ToolCallTurn t, int i, String name, String args) {
        ToolCall c = t.toolCalls().get(i);
        assertEquals(name, c.name());
        assertEquals(args, c.argumentsJson());
        assertTrue(ToolCallIds.isWellFormed(c.id()), c.id());
    }

    @Test
    void everyHeaderVariantIsTheSameCall() {
        String args = "{\"location\":\"San Francisco\"}";
        List<String> headers = List.of(
                "<|channel|>commentary to=functions.get_weather <|constrain|>json",
                " to=functions.get_weather<|channel|>commentary <|constrain|>json",
                " to=functions.get_weather<|channel|>commentary<|constrain|>json",
                "<|channel|>commentary to=functions.get_weather<|constrain|>json",
                " to=functions.get_weather<|channel|>commentary json",
                "<|channel|>commentary to=functions.get_weather json",
                "<|channel|>commentary to=functions.get_weather",
                " to=functions.get_weather<|channel|>commentary",
                "<|channel|>analysis to=functions.get_weather <|constrain|>json",   // vLLM accepts analysis too
                "<|channel|>commentary functions.get_weather <|constrain|>json",    // harmony's bare recipient
                "assistant<|channel|>commentary to=functions.get_weather <|constrain|>json");
        for (String header : headers) {
            for (String prefix : List.of("", "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant")) {
                String completion = prefix + header + "<|message|>" + args + "<|call|>";
                List<ToolCallEvent> events = run(completion);
                ToolCallTurn t = ToolCallTurn.of(events);
                assertEquals(1, t.toolCalls().size(), completion);
                assertCall(t, 0, "get_weather", args);
                assertEquals("", t.content(), completion);
                assertEquals(prefix.isEmpty() ? "" : "Need the weather.", t.reasoning(), completion);
                assertTrue(events.getLast() instanceof ToolCallEnd e && e.index() == 0, completion);
            }
        }
    }

    @Test
    void channelsWithoutRecipient() {
        ToolCallTurn t = turn("<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>commentary<|message|>"
                + "Let me check.<|end|><|start|>assistant<|channel|>final<|message|>Sunny.<|return|>");
        assertEquals("Think.", t.reasoning());
        assertEquals("Let me check.Sunny.", t.content());   // a commentary preamble is content
        assertEquals(List.of(), t.toolCalls());
        assertEquals("4", turn("<|channel|>final <|constrain|>json<|message|>4<|end|>").content());
        assertEquals("4", turn("<|channel|>final json<|message|>4<|end|>").content());  // a lone word is a content type here
        assertEquals("odd", turn("<|channel|>weird<|message|>odd<|end|>").content());   // unknown channel: content
    }

    @Test
    void preambleThenCallThenAnswer() {
        List<ToolCallEvent> events = run("<|channel|>commentary<|message|>Checking the weather.<|end|>"
                + "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"a\":1}<|call|>");
        assertTrue(events.getFirst() instanceof Content, events.toString());   // streamed before the call opens
        ToolCallTurn t = ToolCallTurn.of(events);
        assertEquals("Checking the weather.", t.content());
        assertCall(t, 0, "get_weather", "{\"a\":1}");
    }

    @Test
    void builtInsAndUndeclaredRecipientsAreNotFunctionCalls() {
        String browser = "<|channel|>analysis<|message|>Search.<|end|><|start|>assistant<|channel|>commentary to=browser.search code"
                + "<|message|>{\"query\":\"x\"}<|call|>";
        ToolCallTurn t = turn(browser);
        assertEquals(List.of(), t.toolCalls());
        assertEquals("", t.content());
        assertEquals("Search.", t.reasoning());
        assertEquals(List.of(), turn("<|channel|>analysis to=python code<|message|>print(1)<|call|>").toolCalls());
        assertEquals(List.of(), turn("<|channel|>commentary to=functions.undeclared <|constrain|>json<|message|>{}<|call|>").toolCalls());
        // With no declared list every functions.* recipient is a call.
        ToolCallTurn any = ToolCallTurn.of(run(new HarmonyToolParser(HARMONY, null, ToolCallIds.seeded(1)),
                TOK.encodeWithSpecials("<|channel|>commentary to=functions.undeclared<|message|>{}<|call|>")));
        assertCall(any, 0, "undeclared", "{}");
    }

    @Test
    void harmonysGoldenCompletions() {
        // test_streamable_parser.txt: analysis, a browser.search call, then the browser's reply: only the reasoning remains.
        ToolCallTurn t = turn(HarmonyGoldenTest.golden("test_streamable_parser"));
        assertTrue(t.reasoning().startsWith("User asks \"Who is the current US president?\""), t.reasoning());
        assertTrue(t.reasoning().endsWith("Let's browse to confirm."), t.reasoning());
        assertEquals("", t.content());
        assertEquals(List.of(), t.toolCalls());
        // test_simple_tool_call.txt: the recipient is a bare "lookup_weather" (not functions.*): not a function call.
        ToolCallTurn simple = ToolCallTurn.of(run(parser(), HarmonyGoldenTest.goldenIds("test_simple_tool_call")));
        assertEquals("User asks: \"What is the weather in Tokyo?\" We need to use lookup_weather tool.", simple.reasoning());
        assertEquals(List.of(), simple.toolCalls());
    }

    @Test
    void twoCallsOfTheSameFunctionStayTwo() {
        String call1 = "{\"location\":\"Paris\"}", call2 = "{\"location\":\"Tokyo\"}";
        List<ToolCallEvent> events = run("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>" + call1
                + "<|call|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>" + call2
                + "<|call|>");
        ToolCallTurn t = ToolCallTurn.of(events);
        assertEquals(2, t.toolCalls().size());
        assertCall(t, 0, "get_weather", call1);
        assertCall(t, 1, "get_weather", call2);
        assertNotEquals(t.toolCalls().get(0).id(), t.toolCalls().get(1).id());
        List<Integer> starts = events.stream().filter(e -> e instanceof ToolCallStart).map(e -> ((ToolCallStart) e).index()).toList();
        assertEquals(List.of(0, 1), starts);
        // Every argument delta of call 0 comes before call 1 opens, and none of call 1's before it does.
        int open1 = events.indexOf(events.stream().filter(e -> e instanceof ToolCallStart s && s.index() == 1).findFirst().orElseThrow());
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i) instanceof ToolCallArguments a) assertEquals(i < open1 ? 0 : 1, a.index());
        }
    }

    @Test
    void idsAreSeededAndDistinct() {
        ToolCallIds a = ToolCallIds.seeded(42), b = ToolCallIds.seeded(42);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String id = a.next();
            assertEquals(id, b.next());
            assertTrue(ToolCallIds.isWellFormed(id), id);
            assertTrue(seen.add(id));
        }
        assertNotEquals(ToolCallIds.secure().next(), ToolCallIds.secure().next());
    }

    /** The events of a completion, text merged per kind, compared with the strict non-streaming parser's messages. */
    @Test
    void chunkBoundarySweepMatchesTheOneShotParse() {
        String completion = "<|channel|>analysis<|message|>東京の天気 🌧️ 𓂀 needs a tool.<|end|>"
                + "<|start|>assistant<|channel|>commentary<|message|>Un instant… 🦜<|end|>"
                + "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>"
                + "{\"city\":\"東京\",\"note\":\"𓂀🌧️\"}<|call|>"
                + "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Ōsaka\"}<|call|>";
        int[] ids = TOK.encodeWithSpecials(completion);
        // The text holds characters split across ids (the sweep must reassemble them).
        boolean split = false;
        for (int id : ids) {
            byte[] b = TOK.decodeBytes(-1, id);
            if (b.length > 0 && new String(b, java.nio.charset.StandardCharsets.UTF_8).contains("\uFFFD")) split = true;
        }
        assertTrue(split, "no id of the completion holds part of a UTF-8 character");

        ToolCallTurn expected = oracle(ids);
        assertEquals("東京の天気 🌧️ 𓂀 needs a tool.", expected.reasoning());
        assertEquals(2, expected.toolCalls().size());
        for (int cut = 0; cut <= ids.length; cut++) {
            HarmonyToolParser p = parser();
            List<ToolCallEvent> events = new ArrayList<>();
            for (int id : Arrays.copyOfRange(ids, 0, cut)) events.addAll(p.accept(id));
            for (ToolCallEvent e : events) assertNoReplacement(e);       // nothing half-decoded streams out
            for (int id : Arrays.copyOfRange(ids, cut, ids.length)) events.addAll(p.accept(id));
            events.addAll(p.finish());
            ToolCallTurn got = ToolCallTurn.of(events);
            assertEquals(expected.content(), got.content(), "cut " + cut);
            assertEquals(expected.reasoning(), got.reasoning(), "cut " + cut);
            assertEquals(expected.toolCalls().stream().map(c -> c.name() + c.argumentsJson()).toList(),
                    got.toolCalls().stream().map(c -> c.name() + c.argumentsJson()).toList(), "cut " + cut);
        }
    }

    /** Content, reasoning and calls as the strict HarmonyParser reads the same ids (an independent reading). */
    private static ToolCallTurn oracle(int[] ids) {
        StringBuilder content = new StringBuilder(), reasoning = new StringBuilder();
        List<ToolCall> calls = new ArrayList<>();
        for (HarmonyMessage m : HARMONY.parse(ids)) {
            if (m.recipient() != null && m.recipient().startsWith("functions.")) {
                calls.add(new ToolCall("call_x", m.recipient().substring("functions.".length()), m.content()));
            } else if ("analysis".equals(m.channel())) {
                reasoning.append(m.content());
            } else {
                content.append(m.content());
            }
        }
        return new ToolCallTurn(content.toString(), reasoning.toString(), calls);
    }

    private static void assertNoReplacement(ToolCallEvent e) {
        String text = switch (e) {
            case Content c -> c.text();
            case Reasoning r -> r.text();
            case ToolCallArguments a -> a.text();
            default -> "";
        };
        assertFalse(text.contains("\uFFFD"), e.toString());
    }

    @Test
    void truncatedCallIsClosedAtFinish() {
        HarmonyToolParser p = parser();
        List<ToolCallEvent> events = new ArrayList<>();
        for (int id : TOK.encodeWithSpecials("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"loc")) {
            events.addAll(p.accept(id));
        }
        assertFalse(events.stream().anyMatch(e -> e instanceof ToolCallEnd));
        List<ToolCallEvent> tail = p.finish();
        assertEquals(new ToolCallEnd(0), tail.getLast());
        assertEquals("{\"loc", ToolCallTurn.of(concat(events, tail)).toolCalls().getFirst().argumentsJson());
    }

    @Test
    void malformedStreamsDegrade() {
        // vLLM #22386: <|constrain|> (or <|call|>) where <|start|> is expected; a stop token inside a header.
        ToolCallTurn t = turn("<|channel|>final<|message|>A<|end|><|constrain|><|call|><|start|>assistant<|channel|>final<|message|>B<|return|>");
        assertEquals("AB", t.content());
        assertEquals(List.of(), turn("<|channel|>final<|end|>").toolCalls());
        ToolCallTurn noArgs = turn("<|channel|>commentary to=functions.get_weather<|call|>");
        assertCall(noArgs, 0, "get_weather", "");
        // No header at all: the text is content; a header cut off by the end of generation is dropped.
        assertEquals("Hello there", turn("Hello there").content());
        assertEquals("", turn("<|channel|>final").content());
        // <|start|> or <|channel|> inside content end the message; text after a stop token without <|start|>.
        ToolCallTurn glued = turn("<|channel|>analysis<|message|>x<|channel|>final<|message|>y<|end|>z");
        assertEquals("x", glued.reasoning());
        assertEquals("yz", glued.content());
        // The model writing someone else's turn is dropped.
        assertEquals("ok", turn("<|channel|>final<|message|>ok<|end|><|start|>functions.get_weather to=assistant<|channel|>commentary"
                + "<|message|>{\"t\":1}<|end|><|start|>user<|message|>hi<|end|>").content());
        // A header that never ends is text.
        String longText = "word ".repeat(400);
        assertEquals(longText, turn(longText).content());
    }

    @Test
    void randomTokenSequencesNeverThrow() {
        int[] alphabet = {200002, 200003, 200005, 200006, 200007, 200008, 200012, 199998, 199999, 200000, 200013, 201087,
                -1, 201088, Integer.MAX_VALUE, Integer.MIN_VALUE};
        int[] words = TOK.encode(" to=functions.get_weather to= functions. commentary analysis final json assistant user 東京 🦜 {\"a\":1}");
        Random random = new Random(20);
        for (int round = 0; round < 3000; round++) {
            HarmonyToolParser p = parser();
            int n = random.nextInt(60);
            List<ToolCallEvent> events = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int r = random.nextInt(10);
                int id = r < 4 ? alphabet[random.nextInt(alphabet.length)] : r < 8 ? words[random.nextInt(words.length)] : random.nextInt(201088);
                events.addAll(p.accept(id));
            }
            events.addAll(p.finish());
            assertWellFormed(events);
        }
    }

    /** Calls open in index order 0, 1, …, with distinct ids, and each closes before the next opens. */
    private static void assertWellFormed(List<ToolCallEvent> events) {
        int open = -1, next = 0;
        Set<String> ids = new HashSet<>();
        for (ToolCallEvent e : events) {
            switch (e) {
                case ToolCallStart s -> {
                    assertEquals(-1, open, events.toString());
                    assertEquals(next++, s.index());
                    assertTrue(ids.add(s.id()));
                    open = s.index();
                }
                case ToolCallArguments a -> assertEquals(open, a.index(), events.toString());
                case ToolCallEnd end -> {
                    assertEquals(open, end.index(), events.toString());
                    open = -1;
                }
                default -> assertEquals(-1, open, events.toString());
            }
        }
        assertEquals(-1, open, events.toString());
    }

    /** Render a conversation with a call and its result, then read the assistant's turn back. */
    @Test
    void renderThenParseRoundTrip() {
        String args = "{\"location\": \"San Francisco\", \"unit\":\"c\"}";   // kept as written: never re-serialized
        List<Tool> tools = List.of(new Tool("get_weather", "Weather.", "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"}}}"));
        HarmonyMessage user = HarmonyMessage.user("Weather in SF?");
        HarmonyMessage analysis = HarmonyMessage.assistant("analysis", "Need get_weather.");
        HarmonyMessage call = HarmonyMessage.toolCall("get_weather", args);
        HarmonyMessage result = HarmonyMessage.toolResult("get_weather", "{\"sunny\": true}");
        var before = new HarmonyConversation(HarmonySystem.defaults(), null, List.of(user), tools);
        var after = new HarmonyConversation(HarmonySystem.defaults(), null, List.of(user, analysis, call, result), tools);
        int[] prompt = HARMONY.render(before), full = HARMONY.render(after);
        String text = TOK.decode(full);
        assertTrue(text.contains("Calls to these tools must go to the commentary channel: 'functions'."), text);
        assertTrue(text.contains("<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
                + args + "<|call|><|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"sunny\": true}<|end|>"
                + "<|start|>assistant"), text);
        // The rendering of the shorter conversation is a prefix (it ends with <|start|>assistant): the rest up to the
        // result is the assistant's turn as the model would have generated it.
        assertEquals(TOK.decode(prompt), text.substring(0, TOK.decode(prompt).length()));
        int resultStart = -1;
        for (int i = full.length - 3; i > prompt.length && resultStart < 0; i--) if (full[i] == HARMONY.start) resultStart = i;
        int[] turn = Arrays.copyOfRange(full, prompt.length, resultStart);
        ToolCallTurn t = ToolCallTurn.of(run(parser(), turn));
        assertEquals("Need get_weather.", t.reasoning());
        assertEquals("", t.content());
        assertCall(t, 0, "get_weather", args);
        // And harmony's own placement (recipient after the role) reads back the same.
        var harmonyOrder = new HarmonyMessage("assistant", "commentary", "functions.get_weather", "<|constrain|>json", args);
        int[] full2 = HARMONY.render(new HarmonyConversation(null, null, List.of(user, harmonyOrder), tools));
        int[] prompt2 = HARMONY.render(new HarmonyConversation(null, null, List.of(user), tools));
        ToolCallTurn t2 = ToolCallTurn.of(run(parser(), Arrays.copyOfRange(full2, prompt2.length, full2.length - 2)));
        assertCall(t2, 0, "get_weather", args);
    }

    private static List<ToolCallEvent> concat(List<ToolCallEvent> a, List<ToolCallEvent> b) {
        List<ToolCallEvent> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
