package io.basalt.server.http;

import static io.basalt.server.http.TestServer.events;
import static io.basalt.server.http.TestServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.StringJoiner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** response_format over HTTP on stories260K: content that parses / validates, streamed and not; 400s for bad formats. */
class StructuredOutputHttpTest {
    static final String SCHEMA = """
            {"type":"object","properties":{"color":{"enum":["red","green","blue"]},"count":{"type":"integer","minimum":0,"maximum":99},
             "ok":{"type":"boolean"}},"required":["color","count","ok"],"additionalProperties":false}""";
    static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"Give me JSON\"}]";
    static TestServer server;
    /** logit_bias leaning stories260K toward closing its objects (see the engine's StructuredOutputTest). */
    static String closers;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        StringJoiner j = new StringJoiner(",", "{", "}");
        var t = server.engine.tokenizer();
        for (int id = 0; id < t.vocabSize(); id++) {
            String s;
            try {
                s = new String(t.decodeBytes(-1, id), StandardCharsets.ISO_8859_1);
            } catch (RuntimeException e) {
                continue;
            }
            if (s.indexOf('}') >= 0) j.add("\"" + id + "\":12");
            else if (s.indexOf('"') >= 0) j.add("\"" + id + "\":4");
        }
        closers = j.toString();
    }

    @AfterAll
    static void stop() { server.close(); }

    @AfterEach
    void idle() { server.assertIdleSoon(); }

    @Test
    void jsonObjectChatParsesStreamedAndNot() {
        for (int seed = 0; seed < 4; seed++) {
            String req = "{" + MESSAGES + ",\"max_tokens\":300,\"seed\":" + seed + ",\"logit_bias\":" + closers
                    + ",\"response_format\":{\"type\":\"json_object\"}";
            JsonNode whole = json(server.post("/v1/chat/completions", req + "}"));
            assertEquals("stop", whole.at("/choices/0/finish_reason").asText(), whole.toString());
            String content = whole.at("/choices/0/message/content").asText();
            assertTrue(json(content).isObject(), content);

            HttpResponse<String> r = server.post("/v1/chat/completions", req + ",\"stream\":true}");
            assertEquals(200, r.statusCode(), r.body());
            StringBuilder streamed = new StringBuilder();
            for (String e : events(r.body())) {
                if (e.equals("[DONE]")) continue;
                JsonNode c = json(e).at("/choices/0/delta/content");
                if (c.isTextual()) streamed.append(c.asText());
            }
            assertEquals(content, streamed.toString(), "the stream concatenates to the whole answer (same seed)");
        }
    }

    /**
     * stories260K favours whitespace: FLEXIBLE allows a run of up to 20 bytes at every gap between JSON tokens, so a
     * schema answer may take a few hundred tokens; hence max_tokens 500 (of the 512-token context).
     */
    @Test
    void jsonSchemaCompletionValidates() throws Exception {
        var validator = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(TestServer.JSON.readTree(SCHEMA));
        for (int seed = 0; seed < 6; seed++) {
            String req = "{\"prompt\":\"Once\",\"max_tokens\":500,\"seed\":" + seed
                    + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"thing\",\"strict\":true,\"schema\":"
                    + SCHEMA + "}}}";
            HttpResponse<String> r = server.post("/v1/completions", req);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode j = json(r);
            assertEquals("stop", j.at("/choices/0/finish_reason").asText(), r.body());
            String text = j.at("/choices/0/text").asText();
            assertEquals(List.of(), validator.validate(TestServer.JSON.readTree(text)), text);
        }
    }

    @Test
    void badResponseFormatsAre400sNamingTheField() {
        List<String> bad = List.of("{\"type\":\"regex\"}", "{}", "5", "{\"type\":\"json_schema\"}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\"}}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":\"{}\"}}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{},\"strict\":\"yes\"}}");
        for (String f : bad) {
            for (String path : List.of("/v1/chat/completions", "/v1/completions")) {
                String body = path.endsWith("chat/completions") ? "{" + MESSAGES + ",\"response_format\":" + f + "}"
                        : "{\"prompt\":\"x\",\"response_format\":" + f + "}";
                JsonNode e = TestServer.assertError(server.post(path, body), 400);
                assertEquals("response_format", e.get("param").asText(), f + " → " + e);
                assertEquals("invalid_request_error", e.get("type").asText(), e.toString());
            }
        }
    }

    @Test
    void anUnsupportedKeywordIs400NamingItAndItsPath() {
        String schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\",\"patternProperties\":{\"^x\":{}}}}}";
        JsonNode e = TestServer.assertError(server.post("/v1/chat/completions", "{" + MESSAGES
                + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":" + schema + "}}}"), 400);
        assertEquals("response_format", e.get("param").asText(), e.toString());
        assertTrue(e.get("message").asText().contains("patternProperties"), e.toString());
        assertTrue(e.get("message").asText().contains("/properties/a"), e.toString());
    }

    @Test
    void hostileSchemasAre400sOrAnswersNeverHangsOr5xx() {
        String deep = "{\"type\":\"object\",\"properties\":{\"a\":".repeat(15) + "{}" + "}}".repeat(15);
        String wideEnum = "{\"enum\":[" + String.join(",", java.util.Collections.nCopies(5000, "\"x\"")) + "]}";
        for (String schema : List.of(deep, wideEnum, "{\"type\":\"string\",\"pattern\":\"(a|b){1,129}\"}",
                "{\"type\":\"integer\",\"maximum\":2e10}", "{}", "true",
                "{\"$ref\":\"#\"}", "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#\"}},\"required\":[\"a\"]}")) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = server.post("/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":20,"
                    + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":" + schema + "}}}");
            double s = (System.nanoTime() - t0) / 1e9;
            assertTrue(r.statusCode() == 200 || r.statusCode() == 400, r.statusCode() + " for " + schema.substring(0, Math.min(80,
                    schema.length())) + ": " + r.body());
            if (r.statusCode() == 400) assertEquals("response_format", json(r).at("/error/param").asText(), r.body());
            assertTrue(s < 15, "took " + s + " s");
        }
    }
}
