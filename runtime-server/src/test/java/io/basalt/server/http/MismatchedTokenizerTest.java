package io.basalt.server.http;

import static io.basalt.server.http.TestServer.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.basalt.engine.EngineConfig;
import io.basalt.server.ServerConfig;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tiny random GPT-2 (vocabulary 1000, config.json bos/eos 999) served with GPT-2's r50k_base
 * tokenizer (50257 tokens): text prompts are a 400 that says the tokenizer and the model disagree,
 * and BOS is the model's 999, not the tokenizer's 50256.
 */
class MismatchedTokenizerTest {
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start("gpt2-tiny-random/hf", List.of("gpt2-tiny-random/hf"), 8, ServerConfig.forTests(),
                new EngineConfig(4, 256, 4L << 20, true));
    }

    @AfterAll
    static void stop() { server.close(); }

    @AfterEach
    void idle() { server.assertIdleSoon(); }

    static void assertDisagreement(HttpResponse<String> r, String param) {
        JsonNode e = assertError(r, 400);
        assertEquals(param, e.get("param").asText(), r.body());
        String m = e.get("message").asText();
        assertTrue(m.startsWith("the tokenizer r50k_base (50257 tokens) produced token id ")
                && m.contains("beyond the model's vocabulary of 1000 tokens: the tokenizer and the model disagree")
                && m.contains("--tokenizer"), m);
    }

    @Test
    void textPromptsSayTheTokenizerAndTheModelDisagree() {
        HttpResponse<String> r = server.post("/v1/completions", "{\"prompt\":\"Hello\",\"max_tokens\":2}");
        assertDisagreement(r, "prompt");
        assertTrue(TestServer.json(r).at("/error/message").asText().contains("token id 15496"), r.body());
        assertDisagreement(server.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":2}"),
                "messages");
        // token ids the model knows work, and /tokenize still shows what the tokenizer makes of text
        assertEquals(200, server.post("/v1/completions", "{\"prompt\":[1,2,3],\"max_tokens\":2}").statusCode());
        JsonNode t = TestServer.json(server.post("/tokenize", "{\"prompt\":\"Hello\"}"));
        assertEquals(15496, t.at("/tokens/0").asInt(), t.toString());
    }

    @Test
    void bosIsTheModelsOwn() {
        JsonNode t = TestServer.json(server.post("/tokenize", "{\"prompt\":\"\"}"));
        assertEquals("[999]", t.get("tokens").toString());
        HttpResponse<String> r = server.post("/v1/completions", "{\"prompt\":\"\",\"max_tokens\":2,\"ignore_eos\":true}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(1, TestServer.json(r).at("/usage/prompt_tokens").asInt());
    }
}
