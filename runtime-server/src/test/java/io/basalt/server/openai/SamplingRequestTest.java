package io.basalt.server.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import org.junit.jupiter.api.Test;

/** OpenAI/vLLM sampling fields → SamplingParams, and 400s that name the field. */
class SamplingRequestTest {
    static SamplingParams params(String json, int promptTokens, int defaultMax) {
        ObjectNode o = Json.parseObject(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return SamplingRequest.parse(o, 512).toParams(promptTokens, "prompt", 100, defaultMax, false, 0, "logprobs");
    }

    static String param(String json) {
        return assertThrows(OpenAiException.class, () -> params(json, 10, 16)).param();
    }

    @Test
    void everyFieldIsMapped() {
        SamplingParams p = params("""
                {"n":2,"temperature":0.5,"top_p":0.9,"top_k":-1,"min_p":0.1,"repetition_penalty":1.2,"presence_penalty":0.3,
                 "frequency_penalty":-0.3,"logit_bias":{"5":-100," 7":2.5},"seed":-9,"stop":"x","stop_token_ids":[3,4],
                 "max_tokens":20,"min_tokens":2,"ignore_eos":true}""", 10, 16);
        assertEquals(2, p.n());
        assertEquals(0.5f, p.temperature());
        assertEquals(0.9f, p.topP());
        assertEquals(0, p.topK());
        assertEquals(0.1f, p.minP());
        assertEquals(1.2f, p.repetitionPenalty());
        assertEquals(0.3f, p.presencePenalty());
        assertEquals(-0.3f, p.frequencyPenalty());
        assertEquals(java.util.Map.of(5, -100f, 7, 2.5f), p.logitBias());
        assertEquals(-9L, p.seed());
        assertEquals(java.util.List.of("x"), p.stop());
        assertEquals(2, p.stopTokenIds().length);
        assertEquals(20, p.maxTokens());
        assertEquals(2, p.minTokens());
        assertEquals(true, p.ignoreEos());
    }

    @Test
    void anUnsetMaxTokensDefaultsToWhatFits() {
        assertEquals(16, params("{}", 10, 16).maxTokens());
        assertEquals(90, params("{}", 10, 0).maxTokens());                     // chat: the rest of the context
        assertEquals(5, params("{}", 95, 16).maxTokens());                     // completions: 16 capped to the room
        assertEquals(90, params("{\"max_tokens\":90}", 10, 16).maxTokens());   // exactly the room left
        assertEquals(30, params("{\"max_tokens\":1000,\"max_completion_tokens\":30}", 10, 16).maxTokens());
        SamplingParams p = params("{\"min_tokens\":500}", 10, 0);
        assertEquals(90, p.maxTokens());
        assertEquals(90, p.minTokens());
    }

    @Test
    void anExplicitMaxTokensBeyondTheContextIs400NotClamped() {
        OpenAiException e = assertThrows(OpenAiException.class, () -> params("{\"max_tokens\":91}", 10, 16));
        assertEquals(400, e.status());
        assertEquals("max_tokens", e.param());
        assertEquals("context_length_exceeded", e.code());
        assertEquals("This model's maximum context length is 100 tokens. However, you requested 101 tokens (10 in the prompt, "
                + "91 in the completion). Please reduce the length of the prompt or completion.", e.getMessage());
        e = assertThrows(OpenAiException.class, () -> params("{\"max_completion_tokens\":2147483647}", 10, 0));
        assertEquals("max_completion_tokens", e.param());
        assertTrue(e.getMessage().contains("you requested 2147483657 tokens (10 in the prompt, 2147483647 in the completion)"),
                e.getMessage());
    }

    @Test
    void errorsNameTheField() {
        assertEquals("n", param("{\"n\":0}"));
        assertEquals("temperature", param("{\"temperature\":-0.5}"));
        assertEquals("top_p", param("{\"top_p\":1.5}"));
        assertEquals("top_k", param("{\"top_k\":-3}"));
        assertEquals("min_p", param("{\"min_p\":-1}"));
        assertEquals("repetition_penalty", param("{\"repetition_penalty\":-1}"));
        assertEquals("presence_penalty", param("{\"presence_penalty\":9}"));
        assertEquals("frequency_penalty", param("{\"frequency_penalty\":-9}"));
        assertEquals("logit_bias", param("{\"logit_bias\":{\"1\":-101}}"));
        assertEquals("logit_bias", param("{\"logit_bias\":{\"512\":1}}"));
        assertEquals("stop", param("{\"stop\":[\"\"]}"));
        assertEquals("stop_token_ids", param("{\"stop_token_ids\":[512]}"));
        assertEquals("max_tokens", param("{\"max_tokens\":0}"));
        assertEquals("max_completion_tokens", param("{\"max_completion_tokens\":-1}"));
        assertEquals("min_tokens", param("{\"min_tokens\":-1}"));
        assertEquals("min_tokens", param("{\"max_tokens\":3,\"min_tokens\":4}"));
        assertEquals("seed", param("{\"seed\":\"1\"}"));
        assertEquals("best_of", param("{\"best_of\":2}"));
        assertEquals("logprobs", SamplingRequest.paramOf("top_logprobs must be between 0 and 20, got 30", "max_tokens", "logprobs"));
    }
}
