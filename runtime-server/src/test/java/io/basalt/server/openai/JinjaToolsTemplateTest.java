package io.basalt.server.openai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCall;
import io.basalt.frontend.tools.ToolCallFormat;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** testdata/reference/chat-templates/ with tools, calls in history and tool results; tojson; expression whitespace control. */
class JinjaToolsTemplateTest {
    static final Tokenizer TOK = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), 512);
    static final String PARAMS = "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\", \"description\": \"Ville, 東京\"}, "
            + "\"days\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 7.5}}, \"required\": [\"city\"]}";
    static final List<Tool> TOOLS = List.of(new Tool("get_weather", "Weather of a city", PARAMS), new Tool("get_time", null, null));
    static final List<ChatMessage> HISTORY = List.of(
            ChatMessage.of("system", "Be brief."),
            ChatMessage.of("user", "Weather in Paris and Lyon?"),
            new ChatMessage("assistant", null, null, null, List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}"),
                    new ToolCall("call_2", "get_weather", "{\"city\": \"Lyon\", \"days\": 2}")), null),
            new ChatMessage("tool", "{\"t\": 20}", "get_weather", null, List.of(), "call_1"),
            new ChatMessage("tool", "{\"t\": 18}", "get_weather", null, List.of(), "call_2"),
            ChatMessage.of("assistant", "20 and 18."),
            ChatMessage.of("user", "Thanks"));

    static String template(String name) throws Exception {
        return Files.readString(Shared.root().resolve("reference/chat-templates/" + name));
    }

    static final String HERMES_TOOLS = """
            <s><|im_start|>system
            Be brief.

            You can call functions to answer. Their signatures are listed as JSON inside <tools></tools>:
            <tools>
            {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": {"type": \
            "object", "properties": {"city": {"type": "string", "description": "Ville, 東京"}, "days": {"type": "integer", \
            "minimum": 1, "maximum": 7.5}}, "required": ["city"]}}}
            {"type": "function", "function": {"name": "get_time"}}
            </tools>

            To call a function, answer with one JSON object per call, holding its name and arguments, inside <tool_call></tool_call> tags:
            <tool_call>
            {"name": <function-name>, "arguments": <arguments-as-a-json-object>}
            </tool_call><|im_end|>
            """;

    static final String HERMES_TURNS = """
            <|im_start|>user
            Weather in Paris and Lyon?<|im_end|>
            <|im_start|>assistant
            <tool_call>
            {"name": "get_weather", "arguments": {"city": "Paris"}}
            </tool_call>
            <tool_call>
            {"name": "get_weather", "arguments": {"city": "Lyon", "days": 2}}
            </tool_call><|im_end|>
            <|im_start|>user
            <tool_response>
            {"t": 20}
            </tool_response>
            <tool_response>
            {"t": 18}
            </tool_response><|im_end|>
            <|im_start|>assistant
            20 and 18.<|im_end|>
            <|im_start|>user
            Thanks<|im_end|>
            <|im_start|>assistant
            """;

    static final String LLAMA_TOOLS = """
            <s><|start_header_id|>system<|end_header_id|>

            Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>

            You have access to the functions below. To call one, reply with only a JSON object and no other text.
            Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.

            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather of a city",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "city": {
                                "type": "string",
                                "description": "Ville, 東京"
                            },
                            "days": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 7.5
                            }
                        },
                        "required": [
                            "city"
                        ]
                    }
                }
            }

            {
                "type": "function",
                "function": {
                    "name": "get_time"
                }
            }

            Weather in Paris and Lyon?<|eot_id|>""";

    static final String LLAMA_TURNS = """
            <|start_header_id|>assistant<|end_header_id|>

            {"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_weather", "parameters": {"city": "Lyon", "days": 2}}\
            <|eot_id|><|start_header_id|>ipython<|end_header_id|>

            {"t": 20}<|eot_id|><|start_header_id|>ipython<|end_header_id|>

            {"t": 18}<|eot_id|><|start_header_id|>assistant<|end_header_id|>

            20 and 18.<|eot_id|><|start_header_id|>user<|end_header_id|>

            Thanks<|eot_id|><|start_header_id|>assistant<|end_header_id|>

            """;

    @Test
    void hermesRendersToolsCallsAndResults() throws Exception {
        JinjaChatTemplate t = new JinjaChatTemplate(template("hermes.jinja"), TOK, "<s>", "</s>");
        assertEquals(ToolCallFormat.HERMES, t.toolFormat());
        assertTrue(t.supportsTools());
        assertEquals(HERMES_TOOLS + HERMES_TURNS, t.renderText(HISTORY, null, true, TOOLS));
        // without tools: a plain system turn, the same history
        assertEquals("<s><|im_start|>system\nBe brief.<|im_end|>\n" + HERMES_TURNS, t.renderText(HISTORY, null, true, List.of()));
        // the BOS text is the BOS id
        assertEquals(1, t.render(HISTORY, null, true, TOOLS)[0]);
    }

    @Test
    void llamaRendersToolsInTheFirstUserMessageAndResultsAsIpython() throws Exception {
        JinjaChatTemplate t = new JinjaChatTemplate(template("llama3_json.jinja"), TOK, "<s>", "</s>");
        assertEquals(ToolCallFormat.LLAMA3_JSON, t.toolFormat());
        assertTrue(t.supportsTools());
        assertEquals(LLAMA_TOOLS + LLAMA_TURNS, t.renderText(HISTORY, null, true, TOOLS));
        // the template's own raise_exception is a 400 naming its message
        OpenAiException e = assertThrows(OpenAiException.class, () -> t.render(List.of(ChatMessage.of("assistant", "Hi")), null, true, TOOLS));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains("must start with a user message"), e.getMessage());
        // <|eom_id|> is not a special token of this vocabulary: no extra stop
        assertArrayEquals(new int[0], t.toolStopIds());
    }

    @Test
    void argumentsThatAreNotAnObjectStayAString() throws Exception {
        JinjaChatTemplate t = new JinjaChatTemplate(template("hermes.jinja"), TOK, "", "");
        String text = t.renderText(List.of(ChatMessage.of("user", "x"), new ChatMessage("assistant", "Checking.", null, null,
                List.of(new ToolCall("call_9", "get_time", "{\"tz\": \"UT")), null)), null, false, TOOLS);
        assertTrue(text.endsWith("<|im_start|>assistant\nChecking.\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UT}\n"
                + "</tool_call><|im_end|>\n"), text);
    }

    @Test
    void templatesWithoutToolsOrAFormatRefuseThem() {
        JinjaChatTemplate chatMl = new JinjaChatTemplate(JinjaChatTemplateTest.CHATML, TOK, "<s>", "</s>", ToolCallFormat.HERMES);
        assertFalse(chatMl.supportsTools());                       // never mentions tools
        OpenAiException e = assertThrows(OpenAiException.class, () -> chatMl.render(List.of(ChatMessage.of("user", "x")), null, true, TOOLS));
        assertTrue(e.getMessage().contains("--tool-call-parser"), e.getMessage());
        String unknown = "{% if tools %}{{ tools | tojson }}{% endif %}{{ messages[0].content }}";
        assertFalse(new JinjaChatTemplate(unknown, TOK, "", "").supportsTools());
        JinjaChatTemplate configured = new JinjaChatTemplate(unknown, TOK, "", "", ToolCallFormat.LLAMA3_JSON);
        assertTrue(configured.supportsTools());
        assertTrue(configured.newToolParser(TOOLS, io.basalt.frontend.tools.ToolCallIds.seeded(1))
                instanceof io.basalt.frontend.tools.Llama3JsonToolParser);
    }

    @Test
    void tojsonWritesWhatPythonsJsonDumpsWrites() {
        JinjaChatTemplate t = new JinjaChatTemplate("{{ messages[0].tool_calls[0].function.arguments | tojson }}|"
                + "{{ messages[0].tool_calls[0].function.arguments | tojson(indent=2) }}|{{ [] | tojson }}{{ {} | tojson(indent=2) }}",
                TOK, "", "");
        String args = "{\"a\": [1, 2.5, 1e-05, 1e+16, true, null], \"s\": \"q\\\"\\n\\u0001é\", \"o\": {}}";
        String out = t.renderText(List.of(new ChatMessage("assistant", "", null, null, List.of(new ToolCall("c", "f", args)), null)),
                null, false);
        assertEquals(args + "|{\n  \"a\": [\n    1,\n    2.5,\n    1e-05,\n    1e+16,\n    true,\n    null\n  ],\n"
                + "  \"s\": \"q\\\"\\n\\u0001é\",\n  \"o\": {}\n}|[]{}", out);
        assertEquals("100.0", PyJson.floatRepr(100));
        assertEquals("0.0001", PyJson.floatRepr(1e-4));
    }

    @Test
    void expressionWhitespaceControlIsJinjas() {
        assertEquals("a{{'b'}}", JinjaWhitespace.apply("a \n  {{- 'b' }}").replace(" ", ""));
        JinjaChatTemplate t = new JinjaChatTemplate("{% for m in messages %}\n    {{- m.content -}}\n  |{{ '}}-' }}.{% endfor %}", TOK, "", "");
        assertEquals("x|}}-.y|}}-.", t.renderText(List.of(ChatMessage.of("user", "x"), ChatMessage.of("user", "y")), null, false));
    }

    @Test
    void strictToolTagsOpenWhereTheFormatsArgumentsBegin() throws Exception {
        Tool strict = new Tool("get_weather", null, PARAMS, true);
        for (String file : List.of("hermes.jinja", "llama3_json.jinja")) {
            JinjaChatTemplate t = new JinjaChatTemplate(template(file), TOK, "<s>", "</s>", null);
            List<io.basalt.api.Constraint.Tag> tags = t.toolCallTags(strict, PARAMS);
            assertEquals(2, tags.size(), file);
            for (io.basalt.api.Constraint.Tag tag : tags) {
                assertFalse(tag.compact(), "a space may follow the colon: " + file);
                assertEquals(PARAMS, tag.schemaJson());
                String header = TOK.decode(tag.trigger());
                // the header, then the arguments the region constrains: the format's parser reads one call
                String output = header + " {\"city\": \"Paris\"}}" + (file.startsWith("hermes") ? "\n</tool_call>" : "");
                var parser = t.newToolParser(List.of(strict), io.basalt.frontend.tools.ToolCallIds.seeded(1));
                var events = new java.util.ArrayList<>(parser.accept(new int[0], output));
                events.addAll(parser.finish());
                var calls = io.basalt.frontend.tools.ToolCallTurn.of(events).toolCalls();
                assertEquals(1, calls.size(), file + ": " + output);
                assertEquals("get_weather", calls.getFirst().name());
                assertEquals("{\"city\": \"Paris\"}", calls.getFirst().argumentsJson(), file + ": " + output);
            }
        }
        JinjaChatTemplate plain = new JinjaChatTemplate("{{ messages[0]['content'] }}", TOK, "<s>", "</s>", null);
        assertTrue(plain.toolCallTags(strict, PARAMS).isEmpty());
    }
}
