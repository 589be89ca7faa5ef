package io.basalt.server.http;

import static io.basalt.server.http.TestServer.events;
import static io.basalt.server.http.TestServer.json;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.basalt.api.Constraint;
import io.basalt.api.FinishReason;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.RequestHandle;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.server.ServerConfig;
import io.basalt.server.openai.ChatFormat;
import io.basalt.server.openai.ChatRequest;
import io.basalt.server.openai.OpenAiModel;
import io.basalt.server.openai.ToolChoice;
import io.basalt.server.openai.ToolChoicePlan;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * tool_choice required and named on gpt-oss-tiny-random. The request side (parsing, 400s, the plan: constraint,
 * harmony header suffix, parser) goes through /v1/chat/completions and {@link ToolChoicePlan}; real constrained
 * generation goes through /v1/completions with the plan's own constraint, because this fixture's 1000-id vocabulary
 * cannot take a harmony prompt (chat completions on it are a 400, see {@link GptOssChatTest}). Its output, streamed
 * and whole, is then read by a {@link ChatFormat} with the plan's tool output, as the chat handler does.
 */
class ToolChoiceHttpTest {
    static TestServer server;
    static OpenAiModel model;

    static final String WEATHER = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":6}},"
            + "\"required\":[\"city\"],\"additionalProperties\":false}";
    static final String TIME = "{\"type\":\"object\",\"properties\":{\"zone\":{\"enum\":[\"utc\",\"cet\"]},\"exact\":{\"type\":\"boolean\"}},"
            + "\"required\":[\"zone\"],\"additionalProperties\":false}";
    static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":" + WEATHER + "}},"
            + "{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"parameters\":" + TIME + "}}]";
    static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]";
    static Map<String, Schema> validators;

    @BeforeAll
    static void start() {
        server = TestServer.start("gpt-oss-tiny-random/hf", List.of("gpt-oss"), 8, ServerConfig.forTests(),
                new EngineConfig(4, 256, 16L << 20, true, 4096));
        model = new OpenAiModel(server.model);
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
        validators = Map.of("get_weather", registry.getSchema(json(WEATHER)), "get_time", registry.getSchema(json(TIME)));
    }

    @AfterAll
    static void stop() { server.close(); }

    static ChatRequest request(String body) { return ChatRequest.parse((ObjectNode) json(body), model.vocab()); }

    @Test
    void badToolChoiceFormsAre400sNamingTheField() {
        String tools = ",\"tools\":" + TOOLS;
        List<String> bad = List.of(
                tools + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}",   // not declared
                ",\"tool_choice\":\"required\"",                                                       // no tools
                ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}",       // no tools
                tools + ",\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"auto\",\"tools\":[]}}",
                tools + ",\"tool_choice\":{\"type\":\"custom\",\"custom\":{\"name\":\"x\"}}",
                tools + ",\"tool_choice\":{\"type\":\"function\"}",
                tools + ",\"tool_choice\":{\"function\":{\"name\":\"get_time\"}}",
                tools + ",\"tool_choice\":\"sometimes\"",
                tools + ",\"tool_choice\":5");
        for (String b : bad) {
            JsonNode e = TestServer.assertError(server.post("/v1/chat/completions", "{" + MESSAGES + b + "}"), 400);
            assertEquals("tool_choice", e.get("param").asText(), b + " → " + e);
        }
        JsonNode e = TestServer.assertError(server.post("/v1/chat/completions", "{" + MESSAGES + tools
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}"), 400);
        assertTrue(e.get("message").asText().contains("'nope'"), e.toString());
        e = TestServer.assertError(server.post("/v1/chat/completions", "{" + MESSAGES + tools
                + ",\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{}}}"), 400);
        assertTrue(e.get("message").asText().contains("allowed_tools"), e.toString());
        for (String choice : List.of("\"required\"", "{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}")) {
            e = TestServer.assertError(server.post("/v1/chat/completions", "{" + MESSAGES + tools + ",\"tool_choice\":" + choice
                    + ",\"response_format\":{\"type\":\"json_object\"}}"), 400);
            assertEquals("response_format", e.get("param").asText(), e.toString());
        }
        // response_format text is no constraint: allowed (the request then fails only on this fixture's vocabulary)
        e = TestServer.assertError(server.post("/v1/chat/completions", "{" + MESSAGES + tools
                + ",\"tool_choice\":\"required\",\"response_format\":{\"type\":\"text\"}}"), 400);
        assertEquals("messages", e.get("param").asText(), e.toString());
    }

    @Test
    void toolChoiceParsesIntoItsKinds() {
        assertInstanceOf(ToolChoice.None.class, request("{" + MESSAGES + "}").toolChoice());
        assertInstanceOf(ToolChoice.Auto.class, request("{" + MESSAGES + ",\"tools\":" + TOOLS + "}").toolChoice());
        ChatRequest none = request("{" + MESSAGES + ",\"tools\":" + TOOLS + ",\"tool_choice\":\"none\"}");
        assertEquals(List.of(), none.activeTools());
        ChatRequest required = request("{" + MESSAGES + ",\"tools\":" + TOOLS + ",\"tool_choice\":\"required\",\"parallel_tool_calls\":false}");
        assertInstanceOf(ToolChoice.Required.class, required.toolChoice());
        assertEquals(false, required.parallelToolCalls());
        assertEquals(2, required.activeTools().size());
        assertEquals(new ToolChoice.Named("get_time"), request("{" + MESSAGES + ",\"tools\":" + TOOLS
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}}").toolChoice());
    }

    @Test
    void harmonyPlansAppendTheCallHeader() {
        ToolChoicePlan named = ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + TOOLS
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}}"));
        assertEquals("<|channel|>commentary to=functions.get_time <|constrain|>json<|message|>",
                server.model.tokenizer().decode(named.promptSuffix()));
        assertEquals(new Constraint.JsonSchema(TIME, true, true), named.constraint());
        assertEquals("stop", named.toolOutput().stopReason(1));

        ToolChoicePlan several = ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + TOOLS + ",\"tool_choice\":\"required\"}"));
        assertEquals("<|channel|>commentary<|constrain|>json<|message|>", server.model.tokenizer().decode(several.promptSuffix()));
        assertTrue(((Constraint.JsonSchema) several.constraint()).schemaJson().startsWith("{\"type\":\"array\",\"minItems\":1,"));
        assertEquals("tool_calls", several.toolOutput().stopReason(2));
        int[] rendered = {5, 6};
        assertArrayEquals(new int[] {5, 6, several.promptSuffix()[0]}, java.util.Arrays.copyOf(several.prompt(rendered), 3));

        // one tool under required: the named route (its header, its arguments as the output) but finish_reason tool_calls
        String one = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":" + WEATHER + "}}]";
        ToolChoicePlan single = ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + one + ",\"tool_choice\":\"required\"}"));
        assertEquals("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>",
                server.model.tokenizer().decode(single.promptSuffix()));
        assertEquals(new Constraint.JsonSchema(WEATHER, true, true), single.constraint());
        assertEquals("tool_calls", single.toolOutput().stopReason(1));

        ToolChoicePlan auto = ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + TOOLS + "}"));
        assertNull(auto.constraint());
        assertEquals(0, auto.promptSuffix().length);
        assertNull(ToolChoicePlan.of(model, request("{" + MESSAGES + "}")).toolOutput());
    }

    @Test
    void strictToolsUnderAutoGetATaggedGrammarOpenedByTheirCallHeaders() {
        String strictTools = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"strict\":true,\"parameters\":"
                + WEATHER + "}},{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"parameters\":" + TIME + "}}]";
        ToolChoicePlan plan = ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + strictTools + "}"));
        Constraint.Tagged tagged = (Constraint.Tagged) plan.constraint();
        var tok = server.model.tokenizer();
        List<String> headers = tagged.tags().stream().map(t -> tok.decode(t.trigger())).toList();
        assertEquals(List.of("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>",
                "<|channel|>commentary to=functions.get_weather<|message|>",
                " to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>",
                " to=functions.get_weather<|channel|>commentary<|message|>"), headers);   // get_time is not strict: free
        for (Constraint.Tag t : tagged.tags()) assertEquals(WEATHER, t.schemaJson());
        // every trigger is a header the auto parser reads as a call of that function: the region holds its arguments
        for (Constraint.Tag t : tagged.tags()) {
            int[] args = tok.encode("{\"city\":\"Paris\"}");
            int[] call = tok.encodeWithSpecials("<|call|>");
            int[] out = java.util.stream.IntStream.concat(java.util.stream.IntStream.concat(
                    java.util.Arrays.stream(t.trigger()), java.util.Arrays.stream(args)), java.util.Arrays.stream(call)).toArray();
            var parser = plan.toolOutput().newParser(io.basalt.frontend.tools.ToolCallIds.seeded(1));
            var events = new java.util.ArrayList<>(parser.accept(out, ""));
            events.addAll(parser.finish());
            var turn = io.basalt.frontend.tools.ToolCallTurn.of(events);
            assertEquals(1, turn.toolCalls().size(), tok.decode(t.trigger()));
            assertEquals("get_weather", turn.toolCalls().getFirst().name());
            assertEquals("{\"city\":\"Paris\"}", turn.toolCalls().getFirst().argumentsJson());
        }
        // no strict tool: nothing constrains auto
        assertNull(ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + TOOLS + "}")).constraint());
        // response_format beside strict tools under auto: both constrain, a 400 naming response_format
        var params = io.basalt.api.SamplingParams.greedy(8).toBuilder().constraint(new Constraint.JsonObject()).build();
        var e = org.junit.jupiter.api.Assertions.assertThrows(io.basalt.server.openai.OpenAiException.class, () -> plan.apply(params));
        assertEquals("response_format", e.param());
    }

    /** finish_reason and tool_calls of every choice, from a ChatFormat fed whole results or text deltas. */
    record Answer(List<String> finishReasons, List<JsonNode> toolCalls) { }

    static FinishReason reason(String r) { return r.equals("length") ? FinishReason.LENGTH : FinishReason.STOP; }

    static ChatFormat format(ToolChoicePlan plan, int n, boolean stream, long seed) {
        return new ChatFormat(model, ChatFormat.newId(), "gpt-oss", n, stream, false, 200008, plan.toolOutput(), seed);
    }

    static Answer whole(ToolChoicePlan plan, JsonNode completion, int n, long seed) {
        List<RequestHandle.Choice> choices = new ArrayList<>();
        for (JsonNode c : completion.get("choices")) {
            choices.add(new RequestHandle.Choice(c.get("index").asInt(), new int[0], c.get("text").asText(), List.of(),
                    reason(c.get("finish_reason").asText()), null));
        }
        ObjectNode r = format(plan, n, false, seed).response(new RequestHandle.Result("x", choices, 3, 0), 3);
        List<String> reasons = new ArrayList<>();
        List<JsonNode> calls = new ArrayList<>();
        for (JsonNode c : r.get("choices")) {
            reasons.add(c.get("finish_reason").asText());
            JsonNode tc = c.at("/message/tool_calls");
            calls.add(tc.isMissingNode() ? json("[]") : tc);
        }
        return new Answer(reasons, calls);
    }

    /** The stream's text deltas through ChatFormat.delta, tool_calls fragments accumulated by index as a client does. */
    static Answer streamed(ToolChoicePlan plan, String sse, int n, long seed) {
        ChatFormat f = format(plan, n, true, seed);
        List<ObjectNode> chunks = new ArrayList<>();
        String[] reasons = new String[n];
        for (String e : events(sse)) {
            if (e.equals("[DONE]")) continue;
            for (JsonNode c : json(e).get("choices")) {
                int i = c.get("index").asInt();
                String text = c.path("text").asText("");
                boolean last = c.hasNonNull("finish_reason");
                ObjectNode d = f.delta(i, new int[0], text, null, last);
                if (d != null) chunks.add(d);
                if (last) {
                    chunks.add(f.finish(i, reason(c.get("finish_reason").asText())));
                }
            }
        }
        List<List<ObjectNode>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) calls.add(new ArrayList<>());
        for (ObjectNode chunk : chunks) {
            JsonNode c = chunk.get("choices").get(0);
            int i = c.get("index").asInt();
            if (c.hasNonNull("finish_reason")) reasons[i] = c.get("finish_reason").asText();
            for (JsonNode frag : c.at("/delta/tool_calls")) {
                int k = frag.get("index").asInt();
                if (frag.has("id")) {
                    assertEquals(calls.get(i).size(), k, "calls open in index order");
                    ObjectNode call = TestServer.JSON.createObjectNode();
                    call.put("id", frag.get("id").asText()).put("type", "function");
                    call.putObject("function").put("name", frag.at("/function/name").asText()).put("arguments", "");
                    calls.get(i).add(call);
                } else {
                    ObjectNode fn = (ObjectNode) calls.get(i).get(k).get("function");
                    fn.put("arguments", fn.get("arguments").asText() + frag.at("/function/arguments").asText());
                }
            }
        }
        List<JsonNode> out = new ArrayList<>();
        for (List<ObjectNode> c : calls) {
            ArrayNode a = TestServer.JSON.createArrayNode();
            c.forEach(a::add);
            out.add(a);
        }
        return new Answer(List.of(reasons), out);
    }

    /** Generates under the plan's constraint, whole and streamed; checks both read alike; returns the whole answer. */
    static Answer generate(ToolChoicePlan plan, long seed, int n) {
        String schema = ((Constraint.JsonSchema) plan.constraint()).schemaJson();
        String req = "{\"prompt\":[1,2,3],\"max_tokens\":512,\"temperature\":1,\"n\":" + n + ",\"seed\":" + seed
                + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"calls\",\"strict\":true,\"schema\":"
                + schema + "}}";
        HttpResponse<String> w = server.post("/v1/completions", req + "}");
        assertEquals(200, w.statusCode(), w.body());
        HttpResponse<String> s = server.post("/v1/completions", req + ",\"stream\":true}");
        assertEquals(200, s.statusCode(), s.body());
        Answer whole = whole(plan, json(w), n, seed);
        Answer streamed = streamed(plan, s.body(), n, seed);
        assertEquals(whole, streamed, "same seed: the stream gives the response's tool_calls");
        return whole;
    }

    static void assertValidCall(JsonNode call) {
        assertTrue(ToolCallIds.isWellFormed(call.get("id").asText()), call.toString());
        String name = call.at("/function/name").asText();
        Schema v = validators.get(name);
        assertTrue(v != null, "undeclared function " + call);
        String args = call.at("/function/arguments").asText();
        assertEquals(List.of(), v.validate(json(args)), args);
    }

    @Test
    void namedGivesOneValidCallAndFinishReasonStop() {
        ToolChoicePlan plan = ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + TOOLS
                + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}}"));
        int stopped = 0, cut = 0;
        for (long seed = 0; seed < 4; seed++) {
            Answer a = generate(plan, seed, 2);
            for (int i = 0; i < 2; i++) {
                JsonNode calls = a.toolCalls().get(i);
                assertEquals(1, calls.size(), a.toString());
                assertEquals("get_weather", calls.get(0).at("/function/name").asText());
                if (a.finishReasons().get(i).equals("length")) { cut++; continue; }
                stopped++;
                assertEquals("stop", a.finishReasons().get(i));
                assertValidCall(calls.get(0));
            }
        }
        System.out.println("named: " + stopped + " stop, " + cut + " length");
        assertTrue(stopped > cut, stopped + " stop vs " + cut + " length");
    }

    @Test
    void requiredGivesValidCallsOfDeclaredTools() {
        ToolChoicePlan plan = ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + TOOLS + ",\"tool_choice\":\"required\"}"));
        int stopped = 0, cut = 0, calls = 0;
        for (long seed = 0; seed < 6; seed++) {
            Answer a = generate(plan, seed, 2);
            for (int i = 0; i < 2; i++) {
                if (a.finishReasons().get(i).equals("length")) { cut++; continue; }
                stopped++;
                assertEquals("tool_calls", a.finishReasons().get(i), a.toString());
                JsonNode c = a.toolCalls().get(i);
                assertTrue(c.size() >= 1, a.toString());
                calls += c.size();
                for (JsonNode call : c) assertValidCall(call);
            }
        }
        System.out.println("required: " + stopped + " stop, " + cut + " length, " + calls + " calls");
        assertTrue(stopped > cut, stopped + " stop vs " + cut + " length");

        ToolChoicePlan one = ToolChoicePlan.of(model, request("{" + MESSAGES + ",\"tools\":" + TOOLS
                + ",\"tool_choice\":\"required\",\"parallel_tool_calls\":false}"));
        for (long seed = 0; seed < 3; seed++) {
            Answer a = generate(one, seed, 1);
            if (a.finishReasons().get(0).equals("stop") || a.finishReasons().get(0).equals("tool_calls")) {
                assertEquals(1, a.toolCalls().get(0).size(), a.toString());
            }
        }
    }
}
