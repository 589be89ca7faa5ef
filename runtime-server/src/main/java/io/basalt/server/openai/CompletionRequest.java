package io.basalt.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import java.util.Set;

/**
 * A POST /v1/completions body, type-checked. One prompt per request: a string, an array of token
 * ids, or a one-element array of either; batches are a 400 (send one request per prompt).
 *
 * @param logprobs null, or 0..20 alternatives per token (0 = only the chosen token's logprob)
 * @param echo     prepend the prompt text to each choice (text only: echo with logprobs is a 400)
 */
public record CompletionRequest(String model, Prompt prompt, SamplingRequest sampling, boolean stream,
                                boolean includeUsage, boolean echo, Integer logprobs) {
    /** Either text or token ids. */
    public record Prompt(String text, int[] tokenIds) { }

    /**
     * Every top-level field /v1/completions accepts: OpenAI's (user is accepted and ignored), the shared
     * sampling fields, and vLLM's prompt_logprobs (known, refused). Anything else is a 400.
     */
    static final Set<String> FIELDS = JsonFields.fields(SamplingRequest.FIELDS, Set.of("model", "prompt", "stream",
            "stream_options", "logprobs", "echo", "suffix", "user", "prompt_logprobs"));

    public static CompletionRequest parse(ObjectNode o, int vocab) {
        JsonFields.requireKnown(o, FIELDS);
        String model = JsonFields.string(o, "model");
        Prompt prompt = prompt(JsonFields.opt(o, "prompt"), vocab);
        Integer logprobs = JsonFields.integer(o, "logprobs");
        if (logprobs != null && (logprobs < 0 || logprobs > SamplingParams.MAX_TOP_LOGPROBS)) {
            throw OpenAiException.invalid("logprobs", "logprobs must be between 0 and " + SamplingParams.MAX_TOP_LOGPROBS
                    + ", got " + logprobs);
        }
        Boolean echo = JsonFields.bool(o, "echo");
        if (echo != null && echo && logprobs != null) {
            throw OpenAiException.unsupported("echo", "echo together with logprobs is not supported (no prompt logprobs)");
        }
        String suffix = JsonFields.string(o, "suffix");
        if (suffix != null && !suffix.isEmpty()) throw OpenAiException.unsupported("suffix", "suffix is not supported");
        if (JsonFields.opt(o, "prompt_logprobs") != null) {
            throw OpenAiException.unsupported("prompt_logprobs", "prompt_logprobs is not supported");
        }
        Boolean stream = JsonFields.bool(o, "stream");
        return new CompletionRequest(model, prompt, SamplingRequest.parse(o, vocab), stream != null && stream,
                includeUsage(o), echo != null && echo, logprobs);
    }

    /** stream_options.include_usage (tolerating other keys such as include_obfuscation). */
    static boolean includeUsage(ObjectNode o) {
        JsonNode opts = JsonFields.opt(o, "stream_options");
        if (opts == null) return false;
        if (!opts.isObject()) throw JsonFields.wrongType("stream_options", "an object", opts);
        JsonNode v = JsonFields.opt((ObjectNode) opts, "include_usage");
        if (v == null) return false;
        if (!v.isBoolean()) throw OpenAiException.invalid("stream_options", "stream_options.include_usage must be a boolean");
        return v.booleanValue();
    }

    private static Prompt prompt(JsonNode v, int vocab) {
        if (v == null) throw OpenAiException.invalid("prompt", "'prompt' is required");
        if (v.isTextual()) return new Prompt(v.textValue(), null);
        if (!v.isArray()) throw JsonFields.wrongType("prompt", "a string or an array of token ids", v);
        if (v.isEmpty()) throw OpenAiException.invalid("prompt", "'prompt' must not be an empty array");
        JsonNode first = v.get(0);
        if (first.isTextual() || first.isArray()) {
            if (v.size() > 1) {
                throw OpenAiException.unsupported("prompt", "only one prompt per request is supported; send one request per prompt");
            }
            if (first.isTextual()) return new Prompt(first.textValue(), null);
            return prompt(first, vocab);
        }
        int[] ids = new int[v.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = v.get(i);
            if (!t.isNumber()) throw OpenAiException.invalid("prompt", "'prompt' must be a string, an array of token ids, or one of those in an array");
            ids[i] = JsonFields.toInt(t, "prompt");
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw OpenAiException.invalid("prompt", "token id " + ids[i] + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        return new Prompt(null, ids);
    }
}
