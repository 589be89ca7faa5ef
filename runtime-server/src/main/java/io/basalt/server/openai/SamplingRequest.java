package io.basalt.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sampling fields shared by /v1/completions and /v1/chat/completions, as given (null = not given).
 * {@link #parse} checks JSON types and token ids; {@link #toParams} checks max_tokens against the context
 * and lets {@link SamplingParams} check ranges, turning its messages into 400s that name the field.
 *
 * @param maxTokensParam which name the client used for the token limit (max_completion_tokens wins over max_tokens)
 */
public record SamplingRequest(Integer n, Float temperature, Float topP, Integer topK, Float minP, Float repetitionPenalty,
                              Float presencePenalty, Float frequencyPenalty, Map<Integer, Float> logitBias, Long seed,
                              List<String> stop, int[] stopTokenIds, Integer maxTokens, String maxTokensParam,
                              Integer minTokens, boolean ignoreEos, int priority) {
    /**
     * The fields {@link #parse} reads, on both generation endpoints: OpenAI's sampling fields and vLLM's
     * extra sampling parameters that this server implements.
     */
    static final Set<String> FIELDS = Set.of("n", "best_of", "temperature", "top_p", "top_k", "min_p", "repetition_penalty",
            "presence_penalty", "frequency_penalty", "logit_bias", "seed", "stop", "stop_token_ids", "max_tokens",
            "max_completion_tokens", "min_tokens", "ignore_eos", "priority", "include_stop_str_in_output", "use_beam_search");

    /** Longer stop strings would make the engine's per-token stop matching quadratic for no real use. */
    static final int MAX_STOP_LENGTH = 4096;

    /** @param vocab token ids in logit_bias and stop_token_ids must be below this */
    public static SamplingRequest parse(ObjectNode o, int vocab) {
        // vLLM clients often send these at their defaults; that is this server's behaviour, anything else is not.
        JsonFields.onlyFalse(o, "include_stop_str_in_output", "stop strings are never included in the output");
        JsonFields.onlyFalse(o, "use_beam_search", "beam search is not supported");
        Integer n = JsonFields.integer(o, "n");
        Integer bestOf = JsonFields.integer(o, "best_of");
        if (bestOf != null && bestOf != (n == null ? 1 : n)) {
            throw OpenAiException.unsupported("best_of", "best_of is not supported (only best_of equal to n)");
        }
        Integer topK = JsonFields.integer(o, "top_k");
        if (topK != null && topK == -1) topK = 0;   // vLLM's older spelling of "off"
        String maxParam = JsonFields.opt(o, "max_completion_tokens") != null ? "max_completion_tokens" : "max_tokens";
        Boolean ignoreEos = JsonFields.bool(o, "ignore_eos");
        Integer priority = JsonFields.integer(o, "priority");
        return new SamplingRequest(n, JsonFields.number(o, "temperature"), JsonFields.number(o, "top_p"), topK,
                JsonFields.number(o, "min_p"), JsonFields.number(o, "repetition_penalty"),
                JsonFields.number(o, "presence_penalty"), JsonFields.number(o, "frequency_penalty"),
                logitBias(o, vocab), JsonFields.longValue(o, "seed"), stop(o), stopTokenIds(o, vocab),
                JsonFields.integer(o, maxParam), maxParam, JsonFields.integer(o, "min_tokens"),
                ignoreEos != null && ignoreEos, priority == null ? 0 : priority);
    }

    private static Map<Integer, Float> logitBias(ObjectNode o, int vocab) {
        JsonNode v = JsonFields.opt(o, "logit_bias");
        if (v == null) return Map.of();
        if (!v.isObject()) throw JsonFields.wrongType("logit_bias", "an object mapping token ids to biases", v);
        Map<Integer, Float> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException ex) {
                throw OpenAiException.invalid("logit_bias", "logit_bias keys must be token ids, got '"
                        + JsonFields.clip(e.getKey()) + "'");
            }
            if (id < 0 || id >= vocab) {
                throw OpenAiException.invalid("logit_bias", "logit_bias token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
            out.put(id, JsonFields.toFloat(e.getValue(), "logit_bias"));
        }
        return out;
    }

    private static List<String> stop(ObjectNode o) {
        JsonNode v = JsonFields.opt(o, "stop");
        if (v == null) return List.of();
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.textValue());
        } else if (v.isArray()) {
            for (JsonNode s : v) {
                if (!s.isTextual()) throw JsonFields.wrongType("stop", "a string or an array of strings", s);
                out.add(s.textValue());
            }
        } else {
            throw JsonFields.wrongType("stop", "a string or an array of strings", v);
        }
        for (String s : out) {
            if (s.length() > MAX_STOP_LENGTH) {
                throw OpenAiException.invalid("stop", "stop strings must be at most " + MAX_STOP_LENGTH + " characters");
            }
        }
        return out;
    }

    private static int[] stopTokenIds(ObjectNode o, int vocab) {
        JsonNode v = JsonFields.opt(o, "stop_token_ids");
        if (v == null) return new int[0];
        if (!v.isArray()) throw JsonFields.wrongType("stop_token_ids", "an array of token ids", v);
        int[] ids = new int[v.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = JsonFields.toInt(v.get(i), "stop_token_ids");
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw OpenAiException.invalid("stop_token_ids", "stop token id " + ids[i] + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        return ids;
    }

    /**
     * The engine's parameters for a prompt of {@code promptTokens} tokens.
     *
     * <p>Context rule: the caller has already refused prompts that fill the context (400, never
     * truncated). An explicit max_tokens / max_completion_tokens that does not fit in the room left is
     * a 400 as in OpenAI and vLLM ({@link #contextLengthExceeded}); only an unset limit is fitted:
     * {@code defaultMaxTokens} capped to the room, or the whole room. min_tokens is capped along with
     * a fitted default.
     *
     * @param promptParam      the request field that holds the prompt ("prompt" or "messages"), named in the message
     * @param defaultMaxTokens the limit when none is given, or 0 for "the rest of the context"
     * @param logprobsParam    the request field that asked for logprobs (completions: "logprobs",
     *                         chat: "top_logprobs"), named in errors about the number of alternatives
     */
    public SamplingParams toParams(int promptTokens, String promptParam, int contextLength, int defaultMaxTokens,
                                   boolean logprobs, int topLogprobs, String logprobsParam) {
        int room = contextLength - promptTokens;
        int max;
        if (maxTokens == null) {
            max = defaultMaxTokens > 0 ? Math.min(defaultMaxTokens, room) : room;
        } else {
            max = maxTokens;
            if (max > room) {
                throw new OpenAiException(400, "invalid_request_error",
                        contextLengthExceeded(contextLength, promptTokens, max, promptParam), maxTokensParam, "context_length_exceeded");
            }
        }
        Integer min = minTokens;
        if (min != null && maxTokens != null && min > maxTokens) {
            throw OpenAiException.invalid("min_tokens", "min_tokens (" + min + ") must not exceed " + maxTokensParam + " (" + maxTokens + ")");
        }
        if (min != null && max >= 1 && min > max) min = max;
        SamplingParams.Builder b = SamplingParams.builder()
                .logitBias(logitBias).stop(stop).stopTokenIds(stopTokenIds).maxTokens(max).ignoreEos(ignoreEos)
                .logprobs(logprobs).topLogprobs(topLogprobs);
        if (n != null) b.n(n);
        if (temperature != null) b.temperature(temperature);
        if (topP != null) b.topP(topP);
        if (topK != null) b.topK(topK);
        if (minP != null) b.minP(minP);
        if (repetitionPenalty != null) b.repetitionPenalty(repetitionPenalty);
        if (presencePenalty != null) b.presencePenalty(presencePenalty);
        if (frequencyPenalty != null) b.frequencyPenalty(frequencyPenalty);
        if (seed != null) b.seed(seed);
        if (min != null) b.minTokens(min);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw OpenAiException.invalid(paramOf(e.getMessage(), maxTokensParam, logprobsParam), e.getMessage());
        }
    }

    /**
     * vLLM's message for a prompt plus an explicit token limit that exceed the context (the same
     * words over HTTP and gRPC).
     *
     * @param promptWord what the prompt is called in the request ("prompt", "messages")
     */
    public static String contextLengthExceeded(int contextLength, int promptTokens, int maxTokens, String promptWord) {
        return "This model's maximum context length is " + contextLength + " tokens. However, you requested "
                + ((long) promptTokens + maxTokens) + " tokens (" + promptTokens + " in the " + promptWord + ", " + maxTokens
                + " in the completion). Please reduce the length of the " + promptWord + " or completion.";
    }

    /** The request field a {@link SamplingParams} validation message is about (its messages start with it). */
    static String paramOf(String message, String maxTokensParam, String logprobsParam) {
        if (message == null) return null;
        if (message.startsWith("n ")) return "n";
        for (String p : List.of("temperature", "top_k", "top_p", "min_p", "repetition_penalty", "presence_penalty",
                "frequency_penalty", "logit_bias", "min_tokens")) {
            if (message.startsWith(p)) return p;
        }
        if (message.startsWith("max_tokens")) return maxTokensParam;
        if (message.startsWith("top_logprobs")) return logprobsParam;
        if (message.startsWith("stop token ids")) return "stop_token_ids";
        if (message.contains("stop strings")) return "stop";
        return null;
    }
}
