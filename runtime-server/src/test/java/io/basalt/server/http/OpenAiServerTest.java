package io.basalt.server.http;

import static io.basalt.server.http.TestServer.events;
import static io.basalt.server.http.TestServer.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAI endpoints against a real server on stories260K: shapes, streaming, sampling fields. */
class OpenAiServerTest {
    static TestServer server;

    @BeforeAll
    static void start() { server = TestServer.start(); }

    @AfterAll
    static void stop() { server.close(); }

    @AfterEach
    void idle() { server.assertIdleSoon(); }

    @Test
    void greedyCompletionContinuesThePromptInOpenAiShape() {
        HttpResponse<String> r = server.post("/v1/completions",
                "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = json(r);
        assertTrue(j.get("id").asText().startsWith("cmpl-"), r.body());
        assertEquals("text_completion", j.get("object").asText());
        assertTrue(j.get("created").asLong() > 1_600_000_000L);
        assertEquals("stories260K", j.get("model").asText());
        JsonNode c = j.get("choices").get(0);
        assertEquals(0, c.get("index").asInt());
        assertTrue(c.get("text").asText().startsWith(", there was a little girl"), c.toString());
        assertTrue(c.get("logprobs").isNull());
        assertEquals("length", c.get("finish_reason").asText());
        JsonNode u = j.get("usage");
        assertEquals(5, u.get("prompt_tokens").asInt());            // BOS + 4
        assertEquals(12, u.get("completion_tokens").asInt());
        assertEquals(17, u.get("total_tokens").asInt());
    }

    @Test
    void aliasIsEchoedAndTokenIdPromptsWork() {
        int[] ids = server.model.encodePrompt("Once upon a time");
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(sb.isEmpty() ? "" : ",").append(id);
        HttpResponse<String> r = server.post("/v1/completions",
                "{\"model\":\"stories-alias\",\"prompt\":[" + sb + "],\"max_tokens\":5,\"temperature\":0,\"echo\":true}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("stories-alias", json(r).get("model").asText());
        assertTrue(json(r).at("/choices/0/text").asText().startsWith("Once upon a time, there"), r.body());
    }

    @Test
    void streamedCompletionMatchesTheWholeOneAndEndsWithUsageAndDone() {
        String req = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":20,\"temperature\":0";
        String whole = json(server.post("/v1/completions", req + "}")).at("/choices/0/text").asText();
        HttpResponse<String> r = server.post("/v1/completions", req + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> ev = events(r.body());
        assertEquals("[DONE]", ev.getLast());
        StringBuilder text = new StringBuilder();
        String id = null;
        String finish = null;
        for (String e : ev.subList(0, ev.size() - 2)) {
            JsonNode j = json(e);
            assertEquals("text_completion", j.get("object").asText());
            if (id == null) id = j.get("id").asText();
            assertEquals(id, j.get("id").asText());
            assertTrue(j.has("usage") && j.get("usage").isNull(), e);
            JsonNode c = j.get("choices").get(0);
            text.append(c.get("text").asText());
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
        }
        assertEquals(whole, text.toString());
        assertEquals("length", finish);
        JsonNode usage = json(ev.get(ev.size() - 2));
        assertEquals(0, usage.get("choices").size());
        assertEquals(20, usage.at("/usage/completion_tokens").asInt());
        assertEquals(25, usage.at("/usage/total_tokens").asInt());
    }

    @Test
    void streamWithoutIncludeUsageHasNoUsageChunk() {
        HttpResponse<String> r = server.post("/v1/completions",
                "{\"prompt\":\"Once\",\"max_tokens\":4,\"stream\":true,\"stream_options\":{\"include_usage\":false}}");
        for (String e : events(r.body())) {
            if (e.equals("[DONE]")) continue;
            assertFalse(json(e).has("usage"), e);
            assertEquals(1, json(e).get("choices").size(), e);
        }
    }

    @Test
    void chatCompletionUsesThePlainTemplate() {
        HttpResponse<String> r = server.post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"system","content":"Tell stories."},
                 {"role":"user","content":[{"type":"text","text":"Once upon"},{"type":"text","text":"a time"}]}],
                 "max_completion_tokens":8,"temperature":0,"user":"ignored","metadata":{"x":"1"},"store":false}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = json(r);
        assertTrue(j.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", j.get("object").asText());
        JsonNode c = j.get("choices").get(0);
        assertEquals("assistant", c.at("/message/role").asText());
        assertTrue(c.at("/message/content").isTextual());
        assertEquals("length", c.get("finish_reason").asText());
        int promptTokens = server.model.encodePrompt("system: Tell stories.\nuser: Once upon\na time\nassistant:").length;
        assertEquals(promptTokens, j.at("/usage/prompt_tokens").asInt());
        assertEquals(8, j.at("/usage/completion_tokens").asInt());
    }

    @Test
    void streamedChatStartsWithTheRoleAndEndsEachChoiceWithAFinishReason() {
        HttpResponse<String> r = server.post("/v1/chat/completions", """
                {"messages":[{"role":"user","content":"Hi"}],"max_tokens":10,"n":2,"seed":3,"stream":true,
                 "stream_options":{"include_usage":true}}""");
        assertEquals(200, r.statusCode(), r.body());
        List<String> ev = events(r.body());
        JsonNode first = json(ev.getFirst());
        assertEquals("chat.completion.chunk", first.get("object").asText());
        assertEquals(2, first.get("choices").size());
        for (JsonNode c : first.get("choices")) assertEquals("assistant", c.at("/delta/role").asText());
        String[] finishes = new String[2];
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder()};
        for (String e : ev.subList(1, ev.size() - 2)) {
            JsonNode j = json(e);
            for (JsonNode c : j.get("choices")) {
                int i = c.get("index").asInt();
                assertTrue(finishes[i] == null, "chunk after finish: " + e);
                if (c.at("/delta/content").isTextual()) texts[i].append(c.at("/delta/content").asText());
                if (!c.get("finish_reason").isNull()) finishes[i] = c.get("finish_reason").asText();
            }
        }
        assertEquals("length", finishes[0]);
        assertEquals("length", finishes[1]);
        JsonNode usage = json(ev.get(ev.size() - 2)).get("usage");
        assertEquals(20, usage.get("completion_tokens").asInt());
    }

    @Test
    void nTwoGivesTwoIndexedChoices() {
        JsonNode j = json(server.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":6,\"n\":2,\"seed\":1}"));
        assertEquals(2, j.get("choices").size());
        assertEquals(0, j.at("/choices/0/index").asInt());
        assertEquals(1, j.at("/choices/1/index").asInt());
        assertEquals(12, j.at("/usage/completion_tokens").asInt());
    }

    @Test
    void stopStringEndsTheTextWithoutIncludingIt() {
        JsonNode j = json(server.post("/v1/completions",
                "{\"prompt\":\"Once upon a time\",\"max_tokens\":40,\"temperature\":0,\"stop\":[\" little\",\"zzz\"]}"));
        assertEquals(", there was a", j.at("/choices/0/text").asText());
        assertEquals("stop", j.at("/choices/0/finish_reason").asText());
        JsonNode s = json(server.post("/v1/completions",
                "{\"prompt\":\"Once upon a time\",\"max_tokens\":40,\"temperature\":0,\"stop\":\" girl\"}"));
        assertEquals(", there was a little", s.at("/choices/0/text").asText());
    }

    @Test
    void sameSeedSameTextOtherSeedOtherText() {
        String req = "{\"prompt\":\"Once upon a time\",\"max_tokens\":40,\"temperature\":1.0,\"top_p\":0.95,\"top_k\":-1,\"seed\":";
        String a = json(server.post("/v1/completions", req + "42}")).at("/choices/0/text").asText();
        String b = json(server.post("/v1/completions", req + "42}")).at("/choices/0/text").asText();
        String c = json(server.post("/v1/completions", req + "7}")).at("/choices/0/text").asText();
        assertEquals(a, b);
        assertNotEquals(a, c);
    }

    @Test
    void allSamplingFieldsAreAccepted() {
        HttpResponse<String> r = server.post("/v1/completions", """
                {"prompt":"Once","max_tokens":8,"min_tokens":4,"temperature":0.7,"top_p":0.9,"top_k":20,"min_p":0.05,
                 "repetition_penalty":1.1,"presence_penalty":0.5,"frequency_penalty":-0.5,"logit_bias":{"1":-100,"2":5},
                 "seed":123,"stop_token_ids":[2],"ignore_eos":true,"priority":3,"best_of":1,"user":"u"}""");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(8, json(r).at("/usage/completion_tokens").asInt());
    }

    @Test
    void completionLogprobsHaveTheLegacyShape() {
        JsonNode j = json(server.post("/v1/completions",
                "{\"prompt\":\"Once upon a time\",\"max_tokens\":5,\"temperature\":0,\"logprobs\":3}"));
        JsonNode lp = j.at("/choices/0/logprobs");
        String text = j.at("/choices/0/text").asText();
        assertEquals(5, lp.get("tokens").size());
        assertEquals(5, lp.get("token_logprobs").size());
        assertEquals(5, lp.get("top_logprobs").size());
        assertEquals(5, lp.get("text_offset").size());
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            assertEquals(joined.length(), lp.get("text_offset").get(i).asInt());
            String tok = lp.get("tokens").get(i).asText();
            joined.append(tok);
            double chosen = lp.get("token_logprobs").get(i).asDouble();
            assertTrue(chosen <= 0, lp.toString());
            JsonNode top = lp.get("top_logprobs").get(i);
            assertTrue(top.size() >= 3 && top.size() <= 4, top.toString());
            assertEquals(chosen, top.get(tok).asDouble(), 1e-6);            // greedy: the best one is chosen
            top.properties().forEach(e -> assertTrue(e.getValue().asDouble() <= chosen + 1e-6));
        }
        assertEquals(text, joined.toString());
    }

    @Test
    void chatLogprobsHaveTheChatShapeStreamedAndNot() {
        String req = "{\"messages\":[{\"role\":\"user\",\"content\":\"Once\"}],\"max_tokens\":4,\"temperature\":0,"
                + "\"logprobs\":true,\"top_logprobs\":2";
        JsonNode content = json(server.post("/v1/chat/completions", req + "}")).at("/choices/0/logprobs/content");
        assertEquals(4, content.size());
        for (JsonNode e : content) {
            assertTrue(e.get("token").isTextual());
            assertTrue(e.get("logprob").asDouble() <= 0);
            assertTrue(e.get("bytes").isArray());
            assertEquals(2, e.get("top_logprobs").size());
            for (JsonNode t : e.get("top_logprobs")) {
                assertTrue(t.has("token") && t.has("logprob") && t.get("bytes").isArray(), t.toString());
            }
        }
        List<String> ev = events(server.post("/v1/chat/completions", req + ",\"stream\":true}").body());
        int n = 0;
        for (String e : ev) {
            if (e.equals("[DONE]")) continue;
            JsonNode lp = json(e).at("/choices/0/logprobs");
            if (lp.isObject()) n += lp.get("content").size();
        }
        assertEquals(4, n);
    }

    @Test
    void maxTokensBeyondTheContextIs400AndUnsetChatLimitFillsIt() {
        HttpResponse<String> r = server.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":1000000,\"ignore_eos\":true}");
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("context_length_exceeded", json(r).at("/error/code").asText());
        JsonNode j = json(server.post("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Once\"}],\"ignore_eos\":true,\"temperature\":0}"));
        int ctx = server.model.contextLength();
        assertEquals(ctx, j.at("/usage/total_tokens").asInt(), j.toString());
        assertEquals("length", j.at("/choices/0/finish_reason").asText());
    }

    @Test
    void modelsListAndGet() {
        JsonNode list = json(server.get("/v1/models"));
        assertEquals("list", list.get("object").asText());
        assertEquals(2, list.get("data").size());
        JsonNode m = list.get("data").get(0);
        assertEquals("stories260K", m.get("id").asText());
        assertEquals("model", m.get("object").asText());
        assertEquals(1_700_000_000L, m.get("created").asLong());
        assertEquals("basalt", m.get("owned_by").asText());
        assertEquals(server.model.contextLength(), m.get("max_model_len").asInt());
        HttpResponse<String> one = server.get("/v1/models/stories-alias");
        assertEquals(200, one.statusCode());
        assertEquals("stories-alias", json(one).get("id").asText());
    }

    @Test
    void tokenizeDetokenizeRoundTrip() {
        String text = "Once upon a time, Lily saw a big red ball.";
        JsonNode t = json(server.post("/tokenize", "{\"model\":\"stories260K\",\"prompt\":\"" + text + "\"}"));
        int[] expected = server.model.encodePrompt(text);
        assertEquals(expected.length, t.get("count").asInt());
        assertEquals(expected.length, t.get("tokens").size());
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], t.get("tokens").get(i).asInt());
        assertEquals(server.model.contextLength(), t.get("max_model_len").asInt());
        JsonNode d = json(server.post("/detokenize", "{\"model\":\"stories260K\",\"tokens\":" + t.get("tokens") + "}"));
        assertEquals(text, d.get("prompt").asText());
        JsonNode chat = json(server.post("/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"));
        assertEquals(server.model.encodePrompt("user: Hi\nassistant:").length, chat.get("count").asInt());
    }

    @Test
    void healthReadyAndMetrics() {
        assertEquals(200, server.get("/health").statusCode());
        assertEquals(200, server.get("/ready").statusCode());
        server.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2}");
        HttpResponse<String> m = server.get("/metrics");
        assertEquals(200, m.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", m.headers().firstValue("content-type").orElse(""));
        io.basalt.server.PrometheusText p = io.basalt.server.PrometheusText.parse(m.body());
        assertTrue(p.single("vllm:prompt_tokens_total").value() >= 1, m.body());
        assertTrue(p.single("vllm:generation_tokens_total").value() >= 2, m.body());
        assertTrue(p.single("vllm:e2e_request_latency_seconds_count").value() >= 1, m.body());
        assertEquals("gauge", p.type("vllm:num_requests_waiting"));
    }

    @Test
    void keepAliveConnectionServesManyRequests() {
        for (int i = 0; i < 20; i++) {
            assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":1}").statusCode());
            assertEquals(404, server.get("/nope").statusCode());
        }
    }
}
