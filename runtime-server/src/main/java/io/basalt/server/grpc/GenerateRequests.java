package io.basalt.server.grpc;

import io.basalt.api.Constraint;
import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateRequest;
import io.basalt.server.SamplingField;
import io.basalt.server.SamplingValues;
import io.basalt.server.ServedModel;
import io.basalt.server.openai.SamplingRequest;
import java.util.EnumSet;

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
        return SamplingValues.read(EnumSet.allOf(SamplingField.class), f -> given(r, f)).toParams();
    }

    /** The request's value for a field of the table, or null where it is unset (proto3 optional fields). */
    private static Object given(GenerateRequest r, SamplingField f) {
        return switch (f) {
            case N -> r.hasN() ? r.getN() : null;
            case TEMPERATURE -> r.hasTemperature() ? r.getTemperature() : null;
            case TOP_P -> r.hasTopP() ? r.getTopP() : null;
            case TOP_K -> r.hasTopK() ? r.getTopK() : null;
            case MIN_P -> r.hasMinP() ? r.getMinP() : null;
            case REPETITION_PENALTY -> r.hasRepetitionPenalty() ? r.getRepetitionPenalty() : null;
            case PRESENCE_PENALTY -> r.hasPresencePenalty() ? r.getPresencePenalty() : null;
            case FREQUENCY_PENALTY -> r.hasFrequencyPenalty() ? r.getFrequencyPenalty() : null;
            case LOGIT_BIAS -> r.getLogitBiasMap();
            case SEED -> r.hasSeed() ? r.getSeed() : null;
            case STOP -> r.getStopList();
            case STOP_TOKEN_IDS -> r.getStopTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
            case MAX_TOKENS -> r.hasMaxTokens() ? r.getMaxTokens() : null;
            case MIN_TOKENS -> r.getMinTokens();
            case IGNORE_EOS -> r.getIgnoreEos();
            case LOGPROBS -> r.getLogprobs() || r.getTopLogprobs() > 0;
            case TOP_LOGPROBS -> r.getTopLogprobs();
            case RESPONSE_FORMAT -> switch (r.getResponseFormatCase()) {
                case JSON_SCHEMA -> new Constraint.JsonSchema(r.getJsonSchema().getSchema(), r.getJsonSchema().getStrict());
                case JSON_OBJECT -> r.getJsonObject() ? new Constraint.JsonObject() : null;
                case RESPONSEFORMAT_NOT_SET -> null;
            };
        };
    }
}
