package io.basalt.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.FinishReason;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.RequestHandle;
import io.basalt.server.ServerConfig;
import io.basalt.server.openai.ChatFormat;
import io.basalt.server.openai.OpenAiModel;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gpt-oss behind the server: harmony rendering through /tokenize, and harmony output through the chat
 * response format (the random-weight fixture has a 1000-token vocabulary, so it cannot take harmony's
 * special ids as a prompt: chat completions on it are a 400 naming messages).
 */
class GptOssChatTest {
    static TestServer server;

    @BeforeAll
    static void start() {
        // 16 MiB of KV holds 5456 tokens of this model, not its 131072-token context: serve 4096, as a user would.
        server = TestServer.start("gpt-oss-tiny-random/hf", List.of("gpt-oss"), 8, ServerConfig.forTests(),
                new EngineConfig(4, 256, 16L << 20, true, 4096));
    }

    @AfterAll
    static void stop() { server.close(); }

    @Test
    void tokenizeRendersHarmonyWithTheReasoningEffort() {
        HttpResponse<String> r = server.post("/tokenize", """
                {"model":"gpt-oss","messages":[{"role":"developer","content":"Answer in French."},{"role":"user","content":"Hi"}],
                 "reasoning_effort":"low"}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode tokens = TestServer.json(r).get("tokens");
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = tokens.get(i).asInt();
        String text = server.model.tokenizer().decode(ids);
        assertTrue(text.startsWith("<|start|>system<|message|>You are ChatGPT"), text);
        assertTrue(text.contains("Reasoning: low"), text);
        assertTrue(text.contains("<|start|>developer<|message|># Instructions\n\nAnswer in French.<|end|>"), text);
        assertTrue(text.endsWith("<|start|>user<|message|>Hi<|end|><|start|>assistant"), text);
        TestServer.assertError(server.post("/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"reasoning_effort\":\"max\"}"), 400);
    }

    @Test
    void chatOnTheTinyVocabularyFixtureIsA400() {
        JsonNode e = TestServer.assertError(server.post("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":3}"), 400);
        assertEquals("messages", e.get("param").asText());
        assertEquals(200, server.post("/v1/completions", "{\"prompt\":[1,2,3],\"max_tokens\":3}").statusCode());
        server.assertIdleSoon();
    }

    @Test
    void harmonyOutputBecomesReasoningContentAndContentStreamedAndWhole() {
        OpenAiModel model = new OpenAiModel(server.model);
        int[] out = server.model.tokenizer().encodeWithSpecials(
                "<|channel|>analysis<|message|>Greeting; answer briefly.<|end|><|start|>assistant<|channel|>final<|message|>Bonjour !");
        ChatFormat stream = new ChatFormat(model, ChatFormat.newId(), "gpt-oss", 1, true, false, 200006);
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        List<ObjectNode> chunks = new ArrayList<>(stream.start());
        for (int from = 0; from < out.length; from += 3) {             // merged deltas of up to 3 tokens
            int[] piece = Arrays.copyOfRange(out, from, Math.min(out.length, from + 3));
            ObjectNode c = stream.delta(0, piece, "", null, from + 3 >= out.length);
            if (c != null) chunks.add(c);
        }
        chunks.add(stream.finish(0, FinishReason.STOP));
        for (ObjectNode c : chunks) {
            JsonNode d = c.at("/choices/0/delta");
            if (d.has("reasoning_content")) reasoning.append(d.get("reasoning_content").asText());
            if (d.has("content")) content.append(d.get("content").asText());
            assertEquals("chat.completion.chunk", c.get("object").asText());
        }
        assertEquals("Greeting; answer briefly.", reasoning.toString());
        assertEquals("Bonjour !", content.toString());
        JsonNode usage = stream.usage(50, out.length).get("usage");
        assertEquals(server.model.tokenizer().encode("Greeting; answer briefly.").length,
                usage.at("/completion_tokens_details/reasoning_tokens").asInt());

        ChatFormat whole = new ChatFormat(model, ChatFormat.newId(), "gpt-oss", 1, false, false, 200006);
        ObjectNode r = whole.response(new RequestHandle.Result("x", List.of(new RequestHandle.Choice(0, out, "raw engine text",
                List.of(), FinishReason.STOP, null)), 50, out.length), 50);
        assertEquals("Bonjour !", r.at("/choices/0/message/content").asText());
        assertEquals("Greeting; answer briefly.", r.at("/choices/0/message/reasoning_content").asText());
        assertEquals("stop", r.at("/choices/0/finish_reason").asText());
        assertNull(r.get("choices").get(0).get("logprobs").textValue());
    }
}
