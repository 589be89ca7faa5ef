package io.basalt.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.FinishReason;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.RequestHandle;
import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCallFormat;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.server.ChatSettings;
import io.basalt.server.ServerConfig;
import io.basalt.server.openai.ChatFormat;
import io.basalt.server.openai.OpenAiModel;
import io.basalt.testing.Shared;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tools through a Jinja chat template given to the server ({@code --chat-template testdata/reference/chat-templates/hermes.jinja}):
 * stories260K (whose 512-piece vocabulary spells any text) takes tool requests and histories end to end; the tiny GPT-2
 * shows the rendered prompt through /tokenize (its r50k tokenizer spells text beyond the model's 1000 ids, so it cannot
 * generate from it); a template that never renders tools refuses them. Output: ChatFormat fed a scripted Hermes answer.
 */
class ChatTemplateToolsHttpTest {
    static TestServer stories, gpt2, noTools;
    static ChatSettings hermes;

    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"city\":{\"type\":\"string\"}}}}}]";
    static final String HISTORY = """
            [{"role":"user","content":"Weather?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
               "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
             {"role":"tool","tool_call_id":"call_1","content":"20 C"},{"role":"user","content":"Thanks"}]""";

    @BeforeAll
    static void start() {
        String source = ChatSettings.readTemplate(Shared.reference("chat-templates/hermes.jinja"));
        hermes = ChatSettings.DEFAULT.withTemplate(source, "hermes.jinja");
        EngineConfig engine = new EngineConfig(4, 1024, 32L << 20, true);
        // hermes.jinja's prompt is longer than stories260K's 512-token context in its 512 pieces: a terse Hermes-style one
        String terse = "{% if tools %}tools:{% for t in tools %} {{ t.function.name }}{% endfor %}; call as <tool_call>{}\n{% endif %}"
                + "{% for m in messages %}{{ m.role }}: {{ m.content }}{% if m.tool_calls %}{% for c in m.tool_calls %}<tool_call>"
                + "{{ c.function.arguments | tojson }}{% endfor %}{% endif %}{% if m.tool_call_id %} ({{ m.tool_call_id }}){% endif %}{{ '\\n' }}"
                + "{% endfor %}assistant:";
        stories = TestServer.start(8, ServerConfig.forTests().withChat(ChatSettings.DEFAULT.withTemplate(terse, "terse.jinja")), engine);
        gpt2 = TestServer.start("gpt2-tiny-random/hf", List.of("gpt2"), 8, ServerConfig.forTests().withChat(hermes),
                new EngineConfig(4, 256, 4L << 20, true));
        String chatMl = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}";
        noTools = TestServer.start(8, ServerConfig.forTests().withChat(ChatSettings.DEFAULT.withTemplate(chatMl, "chatml.jinja")
                .withToolCallFormat(ToolCallFormat.HERMES)), engine);
    }

    @AfterAll
    static void stop() {
        stories.close();
        gpt2.close();
        noTools.close();
    }

    @Test
    void toolsAndAHistoryOfCallsAreServed() {
        var r = stories.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}],\"tools\":" + TOOLS
                + ",\"tool_choice\":\"auto\",\"max_tokens\":3}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode choice = TestServer.json(r).at("/choices/0");
        assertTrue(choice.at("/message/role").asText().equals("assistant"), r.body());
        r = stories.post("/v1/chat/completions", "{\"messages\":" + HISTORY + ",\"tools\":" + TOOLS + ",\"max_tokens\":3,\"stream\":true}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("[DONE]", TestServer.events(r.body()).getLast());
        stories.assertIdleSoon();
        var tok = stories.post("/tokenize", "{\"messages\":" + HISTORY + ",\"tools\":" + TOOLS + "}");
        assertEquals(200, tok.statusCode(), tok.body());
        JsonNode t = TestServer.json(tok).get("tokens");
        int[] ids = new int[t.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = t.get(i).asInt();
        String text = stories.model.tokenizer().decode(ids);
        assertTrue(text.contains("tools: get_weather; call as <tool_call>{}\nuser: Weather?\nassistant: <tool_call>{\"city\": \"Paris\"}\n"
                + "tool: 20 C (call_1)\nuser: Thanks\nassistant:"), text);
    }

    @Test
    void aToolSchemaTheGrammarRefusesIsA400NamingTools() {
        String bad = "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"strict\":true,\"parameters\":{\"type\":\"object\","
                + "\"patternProperties\":{\"^x\":{}}}}}]";
        for (String choice : List.of("\"required\"", "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}")) {
            JsonNode e = TestServer.assertError(stories.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":"
                    + "\"x\"}],\"tools\":" + bad + ",\"tool_choice\":" + choice + ",\"max_tokens\":3}"), 400);
            assertEquals("tools", e.get("param").asText(), e.toString());
            assertTrue(e.get("message").asText().contains("patternProperties"), e.toString());
        }
        stories.assertIdleSoon();
    }

    @Test
    void thePromptIsTheTemplatesRendering() {
        var r = gpt2.post("/tokenize", "{\"messages\":" + HISTORY + ",\"tools\":" + TOOLS + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode t = TestServer.json(r).get("tokens");
        int[] ids = new int[t.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = t.get(i).asInt();
        String text = gpt2.model.tokenizer().decode(ids);
        assertTrue(text.startsWith("<|im_start|>system\nYou can call functions to answer. Their signatures are listed as JSON inside "
                + "<tools></tools>:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": "
                + "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}\n</tools>\n"), text);
        assertTrue(text.endsWith("<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n"
                + "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\n20 C\n</tool_response><|im_end|>\n<|im_start|>user\nThanks<|im_end|>\n"
                + "<|im_start|>assistant\n"), text);
        // tool_choice none: no tools block
        r = gpt2.post("/tokenize", "{\"messages\":" + HISTORY + ",\"tools\":" + TOOLS + ",\"tool_choice\":\"none\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertFalse(r.body().isEmpty());
    }

    @Test
    void aTemplateWithoutToolsRefusesThemNamingTheOption() {
        JsonNode e = TestServer.assertError(noTools.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"tools\":" + TOOLS + ",\"max_tokens\":2}"), 400);
        assertEquals("tools", e.get("param").asText());
        assertTrue(e.get("message").asText().contains("--tool-call-parser"), e.toString());
        assertEquals(200, noTools.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"max_tokens\":2}").statusCode());
    }

    static final String ARGS = "{\"city\": \"Lyon\", \"days\": 3}";
    static final String OUTPUT = "Checking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + ARGS + "}\n</tool_call>"
            + "\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Nice\"}}\n</tool_call>";

    private static ChatFormat format(boolean stream) {
        return new ChatFormat(new OpenAiModel(stories.model, hermes), ChatFormat.newId(), "m", 1, stream, false, 1,
                List.of(new Tool("get_weather", null, null)), 11L);
    }

    @Test
    void aHermesAnswerBecomesToolCallsWholeAndStreamedAlike() {
        ObjectNode whole = format(false).response(new RequestHandle.Result("x", List.of(new RequestHandle.Choice(0, new int[] {5, 6},
                OUTPUT, List.of(), FinishReason.STOP, null)), 10, 2), 10);
        JsonNode message = whole.at("/choices/0/message");
        assertEquals("tool_calls", whole.at("/choices/0/finish_reason").asText());
        assertEquals("Checking.\n\n", message.get("content").asText());
        assertEquals(2, message.get("tool_calls").size());
        JsonNode call = message.get("tool_calls").get(0);
        assertTrue(ToolCallIds.isWellFormed(call.get("id").asText()), call.toString());
        assertEquals("get_weather", call.at("/function/name").asText());
        assertEquals(ARGS, call.at("/function/arguments").asText());
        assertEquals("{\"city\": \"Nice\"}", message.at("/tool_calls/1/function/arguments").asText());

        for (int step : new int[] {1, 3, 7}) {
            ChatFormat stream = format(true);
            List<ObjectNode> chunks = new ArrayList<>(stream.start());
            for (int from = 0; from < OUTPUT.length(); from += step) {
                int to = Math.min(OUTPUT.length(), from + step);
                ObjectNode c = stream.delta(0, new int[] {5}, OUTPUT.substring(from, to), null, to == OUTPUT.length());
                if (c != null) chunks.add(c);
            }
            chunks.add(stream.finish(0, FinishReason.STOP));
            StringBuilder content = new StringBuilder();
            List<StringBuilder> args = List.of(new StringBuilder(), new StringBuilder());
            List<String> ids = new ArrayList<>();
            for (ObjectNode c : chunks) {
                JsonNode d = c.at("/choices/0/delta");
                if (d.has("content")) content.append(d.get("content").asText());
                if (!d.has("tool_calls")) continue;
                for (JsonNode f : d.get("tool_calls")) {
                    if (f.has("id")) ids.add(f.get("id").asText());
                    else args.get(f.get("index").asInt()).append(f.at("/function/arguments").asText());
                }
            }
            assertEquals("Checking.\n\n", content.toString(), "step " + step);
            assertEquals(List.of(call.get("id").asText(), message.at("/tool_calls/1/id").asText()), ids, "same seed, same ids");
            assertEquals(ARGS, args.get(0).toString(), "step " + step);
            assertEquals("{\"city\": \"Nice\"}", args.get(1).toString(), "step " + step);
            assertEquals("tool_calls", chunks.getLast().at("/choices/0/finish_reason").asText());
        }
    }
}
