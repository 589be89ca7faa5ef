package io.basalt.server.http;

import static io.basalt.server.http.TestServer.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.basalt.engine.EngineConfig;
import io.basalt.server.ServerConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every error status the server gives, each in OpenAI's {"error":{message,type,param,code}} shape. */
class OpenAiErrorsTest {
    static TestServer server;

    @BeforeAll
    static void start() {
        ServerConfig t = ServerConfig.forTests();
        server = TestServer.start(64, new ServerConfig(t.host(), 0, -1, "", 64 * 1024, Duration.ofSeconds(5)),
                new EngineConfig(4, 512, 16L << 20, true));
    }

    @AfterAll
    static void stop() { server.close(); }

    @AfterEach
    void idle() { server.assertIdleSoon(); }

    private static void assertParam(HttpResponse<String> r, String param) {
        JsonNode e = assertError(r, 400);
        assertEquals("invalid_request_error", e.get("type").asText());
        assertEquals(param, e.get("param").isNull() ? null : e.get("param").asText(), r.body());
    }

    @Test
    void badJsonIsDescribedInPlainWordsWithoutJacksonInternals() {
        Object[][] cases = {
                {"{", "it ends before the JSON value is complete at line 1, column 2"},
                {"{\"a\":}", "unexpected character '}' where a value was expected at line 1, column 6"},
                {"{\"a\":1}x", "unexpected text 'x' at line 1, column 8"},
                {"[1,", "it ends before the JSON value is complete at line 1, column 4"},
                {"\"", "it ends inside a string at line 1, column 2"},
                {"{\"a\":1}{}", "there is more content after the JSON value at line 1, column 8"},
                {"{\"a\":NaN}", "an invalid number at line 1, column 9"},
                {"{\n\"a\" 1}", "unexpected character '1' where ':' was expected at line 2, column 5"},
                {"[".repeat(100), "arrays and objects are nested deeper than 64 levels"},
                {"{\"a\":" + "1".repeat(200) + "}", "a number is longer than 100 characters"},
        };
        for (Object[] c : cases) {
            HttpResponse<String> r = server.post("/v1/completions", (String) c[0]);
            assertParam(r, null);
            assertEquals("The request body is not valid JSON: " + c[1], TestServer.json(r).at("/error/message").asText(), (String) c[0]);
        }
        byte[][] notUtf8 = {{'{', '"', 'p', '"', ':', '"', (byte) 0xFF, '"', '}'}, {(byte) 0xC3, '{'}, {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}};
        String[] offsets = {"6", "0", "2"};
        for (int i = 0; i < notUtf8.length; i++) {
            HttpResponse<String> r = server.post("/v1/chat/completions", notUtf8[i]);
            assertParam(r, null);
            assertEquals("The request body is not valid UTF-8 (an invalid byte at offset " + offsets[i] + ")",
                    TestServer.json(r).at("/error/message").asText());
        }
        for (String body : new String[] {"{'a':1}", "{\"a\":\"\\q\"}", "{\"a\":01}", "/* hi */ {}", "{\"a\":\"x\ny\"}", "nul",
                "{\"a\":1,}", "{\"a\":-}"}) {
            HttpResponse<String> r = server.post("/tokenize", body);
            assertParam(r, null);
            String m = TestServer.json(r).at("/error/message").asText();
            assertTrue(m.startsWith("The request body is not valid JSON: ") && m.contains(" at line 1, column "), body + " -> " + m);
            for (String leak : new String[] {"Source", "REDACTED", "`", "Feature", "jackson", "JsonNode", "VALUE_", "START_", "CTRL-CHAR"}) {
                assertTrue(!m.contains(leak), body + " -> " + m);
            }
        }
    }

    @Test
    void unknownFieldsAre400NamingTheField() {
        HttpResponse<String> r = server.post("/v1/completions", "{\"prompt\":\"Once\",\"max_token\":3}");
        JsonNode e = assertError(r, 400);
        assertEquals("Unrecognized request argument supplied: max_token", e.get("message").asText());
        assertEquals("invalid_request_error", e.get("type").asText());
        assertEquals("max_token", e.get("param").asText());
        assertEquals("unknown_parameter", e.get("code").asText());
        String m = "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]";
        e = assertError(server.post("/v1/chat/completions", "{" + m + ",\"temprature\":0.5,\"top\":1}"), 400);
        assertEquals("Unrecognized request arguments supplied: temprature, top", e.get("message").asText());
        assertEquals("temprature", e.get("param").asText());
        assertParam(server.post("/v1/chat/completions", "{" + m + ",\"prompt\":\"x\"}"), "prompt");      // completions-only
        assertParam(server.post("/v1/completions", "{\"prompt\":\"x\",\"messages\":[]}"), "messages"); // chat-only
        assertParam(server.post("/v1/completions", "{\"prompt\":\"x\",\"top_logprobs\":2}"), "top_logprobs");
        // known but unsupported keeps its own 400
        assertEquals("unsupported_parameter", assertError(server.post("/v1/completions",
                "{\"prompt\":\"x\",\"prompt_logprobs\":1}"), 400).get("code").asText());
        // vLLM's extras that clients send at their defaults: the default is this server's behaviour, the rest is not
        assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":1,\"include_stop_str_in_output\":false,"
                + "\"use_beam_search\":false}").statusCode());
        JsonNode stopStr = assertError(server.post("/v1/chat/completions", "{" + m + ",\"include_stop_str_in_output\":true}"), 400);
        assertEquals("include_stop_str_in_output", stopStr.get("param").asText());
        assertEquals("unsupported_parameter", stopStr.get("code").asText());
        // /tokenize and /detokenize: vLLM's fields only
        assertParam(server.post("/tokenize", "{\"promt\":\"x\"}"), "promt");
        assertParam(server.post("/tokenize", "{\"prompt\":\"x\",\"add_generation_prompt\":true}"), "add_generation_prompt");
        assertParam(server.post("/tokenize", "{\"prompt\":\"x\",\"return_token_strs\":true}"), "return_token_strs");
        assertParam(server.post("/tokenize", "{" + m + ",\"continue_final_message\":true}"), "continue_final_message");
        assertParam(server.post("/tokenize", "{" + m + ",\"add_special_tokens\":true}"), "add_special_tokens");
        assertParam(server.post("/tokenize", "{" + m + ",\"tools\":[{\"type\":\"function\"}]}"), "tools");
        assertParam(server.post("/detokenize", "{\"tokens\":[1],\"prompt\":\"x\"}"), "prompt");
    }

    @Test
    void everyDocumentedFieldIsAccepted() {
        // OpenAI's current chat and completions fields (the SDK sends only what it is given), vLLM's extras.
        HttpResponse<String> chat = server.post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Once"}],"max_tokens":2,"max_completion_tokens":2,
                 "frequency_penalty":0,"presence_penalty":0,"logit_bias":{},"logprobs":false,"top_logprobs":0,"n":1,"seed":1,
                 "stop":null,"temperature":0,"top_p":1,"stream":false,"stream_options":null,"user":"u","metadata":{"k":"v"},
                 "store":false,"service_tier":"auto","parallel_tool_calls":true,"modalities":["text"],"prediction":null,
                 "audio":null,"web_search_options":null,"tool_choice":"none","tools":[],"function_call":"none","functions":[],
                 "response_format":{"type":"text"},"reasoning_effort":"low","safety_identifier":"s","prompt_cache_key":"p",
                 "prompt_cache_retention":"24h","prompt_cache_options":null,"verbosity":"low","moderation":null,
                 "top_k":0,"min_p":0,"repetition_penalty":1,"stop_token_ids":[],"min_tokens":0,"ignore_eos":false,"priority":0,
                 "best_of":1,"add_generation_prompt":true}""");
        assertEquals(200, chat.statusCode(), chat.body());
        HttpResponse<String> completion = server.post("/v1/completions", """
                {"model":"stories260K","prompt":"Once","max_tokens":2,"best_of":1,"echo":false,"frequency_penalty":0,
                 "logit_bias":{},"logprobs":null,"n":1,"presence_penalty":0,"seed":1,"stop":[],"stream":false,
                 "stream_options":null,"suffix":"","temperature":0,"top_p":1,"user":"u","top_k":0,"min_p":0,
                 "repetition_penalty":1,"stop_token_ids":[],"min_tokens":0,"ignore_eos":false,"priority":0,
                 "max_completion_tokens":2}""");
        assertEquals(200, completion.statusCode(), completion.body());
        assertEquals(200, server.post("/tokenize", "{\"model\":\"stories260K\",\"prompt\":\"x\",\"add_special_tokens\":false,"
                + "\"return_token_strs\":false}").statusCode());
        assertEquals(200, server.post("/tokenize", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"add_generation_prompt\":true,\"add_special_tokens\":false,\"continue_final_message\":false,\"tools\":[]}").statusCode());
        assertEquals(200, server.post("/detokenize", "{\"model\":\"stories260K\",\"tokens\":[1]}").statusCode());
    }

    @Test
    void invalidJsonAndWrongBodyTypes() {
        assertParam(server.post("/v1/completions", "{\"prompt\": \"x\""), null);
        assertParam(server.post("/v1/completions", "[1,2]"), null);
        assertParam(server.post("/v1/completions", ""), null);
        assertParam(server.post("/v1/completions", "{} trailing"), null);
        assertParam(server.post("/v1/completions", new byte[] {'{', '"', 'p', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'}), null);
        assertParam(server.post("/v1/completions", "[".repeat(10_000)), null);
    }

    @Test
    void eachBadValueNamesItsParam() {
        String p = "\"prompt\":\"Once\",";
        assertParam(server.post("/v1/completions", "{" + p + "\"temperature\":-1}"), "temperature");
        assertParam(server.post("/v1/completions", "{" + p + "\"temperature\":\"hot\"}"), "temperature");
        assertParam(server.post("/v1/completions", "{" + p + "\"top_p\":0}"), "top_p");
        assertParam(server.post("/v1/completions", "{" + p + "\"top_k\":-5}"), "top_k");
        assertParam(server.post("/v1/completions", "{" + p + "\"min_p\":2}"), "min_p");
        assertParam(server.post("/v1/completions", "{" + p + "\"repetition_penalty\":0}"), "repetition_penalty");
        assertParam(server.post("/v1/completions", "{" + p + "\"presence_penalty\":3}"), "presence_penalty");
        assertParam(server.post("/v1/completions", "{" + p + "\"frequency_penalty\":-2.5}"), "frequency_penalty");
        assertParam(server.post("/v1/completions", "{" + p + "\"logit_bias\":{\"x\":1}}"), "logit_bias");
        assertParam(server.post("/v1/completions", "{" + p + "\"logit_bias\":{\"1\":101}}"), "logit_bias");
        assertParam(server.post("/v1/completions", "{" + p + "\"logit_bias\":{\"100000\":1}}"), "logit_bias");
        assertParam(server.post("/v1/completions", "{" + p + "\"n\":1000000}"), "n");
        assertParam(server.post("/v1/completions", "{" + p + "\"n\":8}"), "n");                 // > max-num-seqs (4)
        assertParam(server.post("/v1/completions", "{" + p + "\"n\":1.5}"), "n");
        assertParam(server.post("/v1/completions", "{" + p + "\"max_tokens\":0}"), "max_tokens");
        assertParam(server.post("/v1/completions", "{" + p + "\"max_tokens\":99999999999999}"), "max_tokens");
        assertParam(server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"max_completion_tokens\":-3}"), "max_completion_tokens");
        assertParam(server.post("/v1/completions", "{" + p + "\"max_tokens\":5,\"min_tokens\":6}"), "min_tokens");
        assertParam(server.post("/v1/completions", "{" + p + "\"seed\":1e400}"), "seed");
        assertParam(server.post("/v1/completions", "{" + p + "\"stop\":[1]}"), "stop");
        assertParam(server.post("/v1/completions", "{" + p + "\"stop\":\"\"}"), "stop");
        assertParam(server.post("/v1/completions", "{" + p + "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\","
                + "\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]}"), "stop");
        assertParam(server.post("/v1/completions", "{" + p + "\"stop_token_ids\":[-1]}"), "stop_token_ids");
        assertParam(server.post("/v1/completions", "{" + p + "\"logprobs\":21}"), "logprobs");
        assertParam(server.post("/v1/completions", "{" + p + "\"logprobs\":true}"), "logprobs");
        assertParam(server.post("/v1/completions", "{" + p + "\"stream\":\"yes\"}"), "stream");
        assertParam(server.post("/v1/completions", "{" + p + "\"stream_options\":{\"include_usage\":1}}"), "stream_options");
        assertParam(server.post("/v1/completions", "{" + p + "\"best_of\":3}"), "best_of");
        assertParam(server.post("/v1/completions", "{" + p + "\"echo\":true,\"logprobs\":1}"), "echo");
        assertParam(server.post("/v1/completions", "{" + p + "\"priority\":\"high\"}"), "priority");
        assertParam(server.post("/v1/completions", "{\"model\":\"stories260K\"}"), "prompt");
        assertParam(server.post("/v1/completions", "{\"prompt\":[\"a\",\"b\"]}"), "prompt");
        assertParam(server.post("/v1/completions", "{\"prompt\":[1,-2]}"), "prompt");
        assertParam(server.post("/v1/completions", "{\"prompt\":[]}"), "prompt");
        assertParam(server.post("/v1/completions", "{\"prompt\":{\"a\":1}}"), "prompt");
        assertParam(server.post("/v1/completions", "{\"prompt\":null}"), "prompt");
        assertParam(server.post("/v1/completions", "{" + p + "\"model\":7}"), "model");
    }

    @Test
    void chatMessageProblems() {
        assertParam(server.post("/v1/chat/completions", "{}"), "messages");
        assertParam(server.post("/v1/chat/completions", "{\"messages\":[]}"), "messages");
        HttpResponse<String> r = server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}");
        assertParam(r, "messages");
        assertTrue(TestServer.json(r).at("/error/message").asText().contains("wizard"), r.body());
        assertParam(server.post("/v1/chat/completions", "{\"messages\":[{\"content\":\"x\"}]}"), "messages");
        assertParam(server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\"}]}"), "messages");
        assertParam(server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}"),
                "messages");
        assertParam(server.post("/v1/chat/completions", "{\"messages\":[\"hi\"]}"), "messages");
        String m = "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]";
        assertParam(server.post("/v1/chat/completions", "{" + m + ",\"top_logprobs\":2}"), "top_logprobs");
        assertParam(server.post("/v1/chat/completions", "{" + m + ",\"logprobs\":true,\"top_logprobs\":30}"), "top_logprobs");
        assertParam(server.post("/v1/chat/completions", "{" + m + ",\"tools\":[{\"type\":\"function\"}]}"), "tools");
        assertParam(server.post("/v1/chat/completions", "{" + m + ",\"response_format\":{\"type\":\"regex\"}}"), "response_format");
        assertParam(server.post("/v1/chat/completions", "{" + m + ",\"reasoning_effort\":\"extreme\"}"), "reasoning_effort");
    }

    @Test
    void promptThatFillsTheContextIs400NeverTruncated() {
        int ctx = server.model.contextLength();
        StringBuilder ids = new StringBuilder("[1");
        for (int i = 1; i < ctx; i++) ids.append(",300");
        assertParam(server.post("/v1/completions", "{\"prompt\":" + ids + "]}"), "prompt");
        assertParam(server.post("/v1/completions", "{\"prompt\":\"" + "Lily ".repeat(ctx) + "\"}"), "prompt");
        assertParam(server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "Lily ".repeat(ctx) + "\"}]}"),
                "messages");
        // one token of room left: an unset max_tokens (16) is capped to it, an explicit 50 is refused
        StringBuilder fits = new StringBuilder("[1");
        for (int i = 2; i < ctx; i++) fits.append(",300");
        HttpResponse<String> ok = server.post("/v1/completions", "{\"prompt\":" + fits + "],\"ignore_eos\":true}");
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals(1, TestServer.json(ok).at("/usage/completion_tokens").asInt());
        HttpResponse<String> tooMany = server.post("/v1/completions", "{\"prompt\":" + fits + "],\"max_tokens\":50}");
        assertParam(tooMany, "max_tokens");
        JsonNode e = TestServer.json(tooMany).get("error");
        assertEquals("context_length_exceeded", e.get("code").asText());
        assertEquals("This model's maximum context length is " + ctx + " tokens. However, you requested " + (ctx - 1 + 50)
                + " tokens (" + (ctx - 1) + " in the prompt, 50 in the completion). Please reduce the length of the prompt or completion.",
                e.get("message").asText());
    }

    @Test
    void anExplicitTokenLimitBeyondTheContextIs400OnBothEndpoints() {
        int ctx = server.model.contextLength();
        String m = "\"messages\":[{\"role\":\"user\",\"content\":\"Once\"}]";
        HttpResponse<String> chat = server.post("/v1/chat/completions", "{" + m + ",\"max_completion_tokens\":" + ctx + "}");
        assertParam(chat, "max_completion_tokens");
        String message = TestServer.json(chat).at("/error/message").asText();
        assertTrue(message.startsWith("This model's maximum context length is " + ctx + " tokens. However, you requested "), message);
        assertTrue(message.contains(" in the messages, " + ctx + " in the completion). Please reduce the length of the messages"),
                message);
        assertParam(server.post("/v1/chat/completions", "{" + m + ",\"max_tokens\":1000000}"), "max_tokens");
        assertParam(server.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":1000000}"), "max_tokens");
        // unset: chat gets the rest of the context
        HttpResponse<String> rest = server.post("/v1/chat/completions", "{" + m + ",\"ignore_eos\":true}");
        assertEquals(200, rest.statusCode(), rest.body());
        assertEquals(ctx, TestServer.json(rest).at("/usage/total_tokens").asInt());
    }

    @Test
    void unknownModelRouteAndMethod() {
        JsonNode e = assertError(server.post("/v1/completions", "{\"model\":\"gpt-4\",\"prompt\":\"x\"}"), 404);
        assertEquals("model", e.get("param").asText());
        assertEquals("model_not_found", e.get("code").asText());
        assertError(server.post("/v1/chat/completions", "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), 404);
        assertError(server.get("/v1/models/gpt-4"), 404);
        assertError(server.get("/v2/everything"), 404);
        assertError(server.get("/v1/completions"), 405);
        assertError(server.post("/v1/models", "{}"), 405);
        assertError(server.send(server.request("/health").DELETE().build()), 405);
    }

    @Test
    void malformedUriIs400AndTheServerStaysHealthy() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.http.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /v1/models/%zz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = readUntil(s.getInputStream(), "}}");
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        }
        assertEquals(200, server.get("/health").statusCode());
    }

    @Test
    void tokenizeErrors() {
        assertParam(server.post("/tokenize", "{}"), null);
        assertParam(server.post("/tokenize", "{\"prompt\":5}"), "prompt");
        assertParam(server.post("/detokenize", "{\"tokens\":[1, 99999]}"), "tokens");
        assertParam(server.post("/detokenize", "{\"tokens\":\"1 2\"}"), "tokens");
        assertError(server.post("/detokenize", "{\"model\":\"nope\",\"tokens\":[1]}"), 404);
    }

    @Test
    void bodyOverTheLimitIs413AndTheConnectionStaysUsable() throws Exception {
        HttpResponse<String> r = server.post("/v1/completions", "{\"prompt\":\"" + "a".repeat(200_000) + "\"}");
        assertError(r, 413);
        assertEquals(200, server.get("/health").statusCode());
        // A raw keep-alive connection: the 413 arrives, then the next request on the same socket is answered.
        try (Socket s = new Socket("127.0.0.1", server.http.port())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            byte[] big = ("{\"prompt\":\"" + "a".repeat(100_000) + "\"}").getBytes(StandardCharsets.UTF_8);
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + big.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(big);
            out.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = readUntil(s.getInputStream(), "\"status\":\"ok\"");
            assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
            assertTrue(answer.contains("request_too_large"), answer);
            assertTrue(answer.contains("HTTP/1.1 200"), answer);
        }
    }

    static String readUntil(InputStream in, String marker) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        byte[] buf = new byte[4096];
        while (!sb.toString().contains(marker)) {
            int n = in.read(buf);
            if (n < 0) break;
            sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    @Test
    void apiKeyIsRequiredExceptForHealthReadyMetrics() {
        ServerConfig t = ServerConfig.forTests();
        try (TestServer keyed = TestServer.start(8, new ServerConfig(t.host(), 0, -1, "s3cret", t.maxBodyBytes(), Duration.ofSeconds(2)),
                new EngineConfig(4, 512, 16L << 20, true))) {
            String path = keyed.base + "/v1/models";
            HttpResponse<String> none = keyed.send(HttpRequest.newBuilder(java.net.URI.create(path)).GET().build());
            JsonNode e = assertError(none, 401);
            assertEquals("invalid_api_key", e.get("code").asText());
            HttpResponse<String> wrong = keyed.send(HttpRequest.newBuilder(java.net.URI.create(path))
                    .header("Authorization", "Bearer nope").GET().build());
            assertError(wrong, 401);
            HttpResponse<String> unknownRoute = keyed.send(HttpRequest.newBuilder(java.net.URI.create(keyed.base + "/x")).GET().build());
            assertError(unknownRoute, 401);
            assertEquals(200, keyed.get("/v1/models").statusCode());      // the helper sends the key
            assertEquals(200, keyed.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2}").statusCode());
            for (String open : new String[] {"/health", "/ready", "/metrics"}) {
                assertEquals(200, keyed.send(HttpRequest.newBuilder(java.net.URI.create(keyed.base + open)).GET().build()).statusCode());
            }
        }
    }

    @Test
    void readyIs503WhileDraining() {
        ServerConfig t = ServerConfig.forTests();
        try (TestServer s = TestServer.start(8, new ServerConfig(t.host(), 0, -1, "", t.maxBodyBytes(), Duration.ofSeconds(2)),
                new EngineConfig(4, 512, 16L << 20, true))) {
            assertEquals(200, s.get("/ready").statusCode());
            s.service.drain();
            assertEquals(503, s.get("/ready").statusCode());
            assertEquals(200, s.get("/health").statusCode());
            HttpResponse<String> r = s.post("/v1/completions", "{\"prompt\":\"Once\"}");
            assertError(r, 429);
            assertEquals("1", r.headers().firstValue("retry-after").orElse(""));
        }
    }
}
