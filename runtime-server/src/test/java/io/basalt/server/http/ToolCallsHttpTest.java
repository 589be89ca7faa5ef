package io.basalt.server.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.FinishReason;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.RequestHandle;
import io.basalt.frontend.harmony.Harmony;
import io.basalt.frontend.harmony.HarmonyConversation;
import io.basalt.frontend.harmony.HarmonyMessage;
import io.basalt.frontend.harmony.HarmonySystem;
import io.basalt.frontend.harmony.ReasoningEffort;
import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.server.ServerConfig;
import io.basalt.server.openai.ChatFormat;
import io.basalt.server.openai.OpenAiModel;
import java.net.http.HttpResponse;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OpenAI tools on a gpt-oss (harmony) model: request side through /tokenize and /v1/chat/completions, output side
 * through the chat response format fed fixed harmony token sequences (a random model never calls a tool; the
 * tiny fixture's 1000-id vocabulary cannot take harmony's special ids as a prompt, see {@link GptOssChatTest}).
 */
class ToolCallsHttpTest {
    static TestServer gptOss, stories;

    static final String PARAMS = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"}},"
            + "\"required\":[\"city\"]}";
    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather of a city\","
            + "\"parameters\":" + PARAMS + ",\"strict\":false}}]";
    static final String HISTORY = """
            [{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in Paris?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
               "function":{"name":"get_weather","arguments":"{\\"city\\": \\"Paris\\"}"}}]},
             {"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"{\\"t\\":20}"}]},
             {"role":"assistant","content":"20 degrees."},{"role":"user","content":"And Lyon?"}]""";

    @BeforeAll
    static void start() {
        gptOss = TestServer.start("gpt-oss-tiny-random/hf", List.of("gpt-oss"), 8, ServerConfig.forTests(),
                new EngineConfig(4, 256, 16L << 20, true, 4096));
        stories = TestServer.start();
    }

    @AfterAll
    static void stop() {
        gptOss.close();
        stories.close();
    }

    private static int[] tokens(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        JsonNode t = TestServer.json(r).get("tokens");
        int[] ids = new int[t.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = t.get(i).asInt();
        return ids;
    }

    private static int[] direct(List<Tool> tools) {
        HarmonySystem system = HarmonySystem.defaults().withReasoningEffort(ReasoningEffort.MEDIUM)
                .withCurrentDate(LocalDate.now(ZoneOffset.UTC).toString());
        return new Harmony(gptOss.model.tokenizer()).render(new HarmonyConversation(system, "Be brief.", List.of(
                HarmonyMessage.user("Weather in Paris?"),
                HarmonyMessage.toolCall("get_weather", "{\"city\": \"Paris\"}"),
                HarmonyMessage.toolResult("get_weather", "{\"t\":20}"),
                HarmonyMessage.assistant("final", "20 degrees."),
                HarmonyMessage.user("And Lyon?")), tools));
    }

    @Test
    void toolsAndHistoryRenderAsHarmonyConversationDoes() {
        int[] got = tokens(gptOss.post("/tokenize", "{\"messages\":" + HISTORY + ",\"tools\":" + TOOLS + "}"));
        int[] want = direct(List.of(new Tool("get_weather", "Weather of a city", PARAMS, false)));
        assertArrayEquals(want, got, () -> gptOss.model.tokenizer().decode(got));
        String text = gptOss.model.tokenizer().decode(got);
        assertTrue(text.contains("namespace functions"), text);
        assertTrue(text.contains("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\"}<|call|>"), text);
        // tool_choice none: no functions declared, the history still renders
        assertArrayEquals(direct(List.of()), tokens(gptOss.post("/tokenize", "{\"messages\":" + HISTORY + ",\"tools\":" + TOOLS
                + ",\"tool_choice\":\"none\"}")));
    }

    @Test
    void unknownToolCallIdIsA400() {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"tool\",\"tool_call_id\":\"call_nope\","
                + "\"content\":\"1\"}],\"tools\":" + TOOLS + "}";
        JsonNode e = TestServer.assertError(gptOss.post("/v1/chat/completions", body), 400);
        assertEquals("messages", e.get("param").asText());
        assertTrue(e.get("message").asText().contains("call_nope"), e.toString());
    }

    @Test
    void toolsOnANonHarmonyModelAreA400WithAClearMessage() {
        JsonNode e = TestServer.assertError(stories.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"tools\":" + TOOLS + ",\"max_tokens\":2}"), 400);
        assertEquals("tools", e.get("param").asText());
        assertTrue(e.get("message").asText().contains("--tool-call-parser"), e.toString());
        // tool_choice required/named also need a template that renders tools
        e = TestServer.assertError(stories.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"tools\":" + TOOLS + ",\"tool_choice\":\"required\",\"max_tokens\":2}"), 400);
        assertEquals("tools", e.get("param").asText());
        // no tools (or an empty list) still works there
        assertEquals(200, stories.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"tools\":[],\"parallel_tool_calls\":true,\"max_tokens\":2}").statusCode());
    }

    static final String CALL_OUTPUT = "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary"
            + "<|message|>Checking.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
            + "<|message|>{\"city\": \"Lyon\", \"days\": 3}";      // <|call|> is the stop token: the engine does not emit it

    private static ChatFormat format(boolean stream, long seed) {
        return new ChatFormat(new OpenAiModel(gptOss.model), ChatFormat.newId(), "gpt-oss", 1, stream, false, 200006,
                List.of(new Tool("get_weather", null, PARAMS)), seed);
    }

    private static ObjectNode whole(int[] out, FinishReason reason, long seed) {
        return format(false, seed).response(new RequestHandle.Result("x", List.of(new RequestHandle.Choice(0, out, "raw",
                List.of(), reason, null)), 50, out.length), 50);
    }

    @Test
    void callsBecomeToolCallsWholeAndStreamedAlike() {
        int[] out = gptOss.model.tokenizer().encodeWithSpecials(CALL_OUTPUT);
        JsonNode m = whole(out, FinishReason.STOP, 7).at("/choices/0");
        assertEquals("tool_calls", m.get("finish_reason").asText());
        JsonNode message = m.get("message");
        assertEquals("Checking.", message.get("content").asText());
        assertEquals("Need the weather.", message.get("reasoning_content").asText());
        JsonNode call = message.get("tool_calls").get(0);
        assertEquals(1, message.get("tool_calls").size());
        assertTrue(ToolCallIds.isWellFormed(call.get("id").asText()), call.toString());
        assertEquals("function", call.get("type").asText());
        assertEquals("get_weather", call.at("/function/name").asText());
        assertEquals("{\"city\": \"Lyon\", \"days\": 3}", call.at("/function/arguments").asText());

        for (int step : new int[] {1, 2, 5}) {
            ChatFormat stream = format(true, 7);
            List<ObjectNode> chunks = new ArrayList<>(stream.start());
            for (int from = 0; from < out.length; from += step) {
                ObjectNode c = stream.delta(0, Arrays.copyOfRange(out, from, Math.min(out.length, from + step)), "", null,
                        from + step >= out.length);
                if (c != null) chunks.add(c);
            }
            chunks.add(stream.finish(0, FinishReason.STOP));
            StringBuilder content = new StringBuilder(), reasoning = new StringBuilder(), arguments = new StringBuilder();
            int starts = 0;
            for (ObjectNode c : chunks) {
                JsonNode d = c.at("/choices/0/delta");
                if (d.has("content")) content.append(d.get("content").asText());
                if (d.has("reasoning_content")) reasoning.append(d.get("reasoning_content").asText());
                if (!d.has("tool_calls")) continue;
                for (JsonNode f : d.get("tool_calls")) {
                    assertEquals(0, f.get("index").asInt());
                    if (f.has("id")) {
                        starts++;
                        assertEquals(call.get("id").asText(), f.get("id").asText(), "same seed, same id");
                        assertEquals("function", f.get("type").asText());
                        assertEquals("get_weather", f.at("/function/name").asText());
                        assertEquals("", f.at("/function/arguments").asText(), "the first fragment opens the call");
                    } else {
                        assertFalse(f.at("/function").has("name"), f.toString());
                        arguments.append(f.at("/function/arguments").asText());
                    }
                }
            }
            assertEquals(1, starts);
            assertEquals(call.at("/function/arguments").asText(), arguments.toString(), "step " + step);
            assertEquals("Checking.", content.toString());
            assertEquals("Need the weather.", reasoning.toString());
            assertEquals("tool_calls", chunks.getLast().at("/choices/0/finish_reason").asText());
        }
        assertNotEquals(call.get("id").asText(), whole(out, FinishReason.STOP, 8).at("/choices/0/message/tool_calls/0/id").asText());
    }

    @Test
    void onlyCallsGiveNullContentAndACutCallFinishesWithLength() {
        int[] out = gptOss.model.tokenizer().encodeWithSpecials(
                "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Ly");
        JsonNode c = whole(out, FinishReason.LENGTH, 1).at("/choices/0");
        assertEquals("length", c.get("finish_reason").asText());
        assertTrue(c.at("/message/content").isNull(), c.toString());
        assertEquals("{\"city\": \"Ly", c.at("/message/tool_calls/0/function/arguments").asText());
        ChatFormat stream = format(true, 1);
        stream.delta(0, out, "", null, true);
        assertEquals("length", stream.finish(0, FinishReason.LENGTH).at("/choices/0/finish_reason").asText());
        // without any call, finish_reason stays stop and content stays a string
        JsonNode plain = whole(gptOss.model.tokenizer().encodeWithSpecials("<|channel|>final<|message|>Hi"), FinishReason.STOP, 1)
                .at("/choices/0");
        assertEquals("stop", plain.get("finish_reason").asText());
        assertEquals("Hi", plain.at("/message/content").asText());
        assertFalse(plain.get("message").has("tool_calls"));
    }
}
