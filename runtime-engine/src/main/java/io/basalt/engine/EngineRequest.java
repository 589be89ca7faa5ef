package io.basalt.engine;

import io.basalt.api.SamplingParams;

/**
 * A tokenized request: what the frontend hands the engine.
 *
 * @param priority lower values are served first (vLLM's convention); ties go to the earlier arrival
 */
public record EngineRequest(String requestId, int[] promptTokens, SamplingParams params, int priority) {
    public EngineRequest {
        if (requestId == null || requestId.isEmpty()) throw new IllegalArgumentException("request id must not be empty");
        if (promptTokens.length == 0) throw new IllegalArgumentException("the prompt must contain at least one token");
        promptTokens = promptTokens.clone();
    }

    @Override
    public int[] promptTokens() { return promptTokens.clone(); }

    int numPromptTokens() { return promptTokens.length; }
}
