package io.basalt.server.grpc;

import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateRequest;
import io.basalt.server.ServedModel;
import io.basalt.server.openai.SamplingRequest;

/** {@link GenerateRequest} → prompt ids and {@link SamplingParams}; bad values throw IllegalArgumentException. */
final class GenerateRequests {
    private GenerateRequests() {}

    static int[] prompt(ServedModel model, GenerateRequest r) {
        return switch (r.getPromptCase()) {
            case TEXT -> model.encodePrompt(r.getText());
            case TOKEN_IDS -> {
                if (r.getTokenIds().getIdsCount() == 0) throw new IllegalArgumentException("token_ids.ids must not be empty");
                yield r.getTokenIds().getIdsList().stream().mapToInt(Integer::intValue).toArray();
            }
            case PROMPT_NOT_SET -> throw new IllegalArgumentException("the request has no prompt: set text or token_ids");
        };
    }

    /**
     * An explicit max_tokens that does not fit beside the prompt is refused (INVALID_ARGUMENT, vLLM's
     * words), never cut to fit; an unset one keeps its default and the engine stops at the context.
     */
    static void checkContext(boolean maxTokensGiven, int promptTokens, int maxTokens, int contextLength) {
        if (maxTokensGiven && (long) promptTokens + maxTokens > contextLength) {
            throw new IllegalArgumentException(SamplingRequest.contextLengthExceeded(contextLength, promptTokens, maxTokens, "prompt"));
        }
    }

    /** Unset optional fields keep the {@link SamplingParams.Builder} defaults (OpenAI's). */
    static SamplingParams sampling(GenerateRequest r) {
        SamplingParams.Builder b = SamplingParams.builder();
        if (r.hasN()) b.n(r.getN());
        if (r.hasTemperature()) b.temperature(r.getTemperature());
        if (r.hasTopK()) b.topK(r.getTopK());
        if (r.hasTopP()) b.topP(r.getTopP());
        if (r.hasMinP()) b.minP(r.getMinP());
        if (r.hasRepetitionPenalty()) b.repetitionPenalty(r.getRepetitionPenalty());
        if (r.hasPresencePenalty()) b.presencePenalty(r.getPresencePenalty());
        if (r.hasFrequencyPenalty()) b.frequencyPenalty(r.getFrequencyPenalty());
        if (r.hasSeed()) b.seed(r.getSeed());
        if (r.hasMaxTokens()) b.maxTokens(r.getMaxTokens());
        b.logitBias(r.getLogitBiasMap());
        b.logprobs(r.getLogprobs() || r.getTopLogprobs() > 0);
        b.topLogprobs(r.getTopLogprobs());
        b.stopTokenIds(r.getStopTokenIdsList().stream().mapToInt(Integer::intValue).toArray());
        b.stop(r.getStopList());
        b.minTokens(r.getMinTokens());
        b.ignoreEos(r.getIgnoreEos());
        return b.build();
    }
}
