package io.basalt.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.basalt.api.Constraint;
import io.basalt.api.SamplingParams;
import io.basalt.server.SamplingField;
import io.basalt.server.SamplingValues;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The sampling fields shared by /v1/completions and /v1/chat/completions, as given. {@link #parse}
 * reads the {@link SamplingField} table's fields from the body (checking JSON types and token ids);
 * {@link #toParams} checks max_tokens against the context and lets {@link SamplingParams} check
 * ranges, turning its messages into 400s that name the field.
 *
 * @param values         the table's fields the body gave (logprobs are per endpoint: see {@link #toParams})
 * @param maxTokensParam which name the client used for the token limit (max_completion_tokens wins over max_tokens)
 */
public record SamplingRequest(SamplingValues values, String maxTokensParam, int priority) {
    /** The table's fields read from the body under their own names (max_tokens also as max_completion_tokens). */
    static final Set<SamplingField> BODY_FIELDS =
            EnumSet.complementOf(EnumSet.of(SamplingField.LOGPROBS, SamplingField.TOP_LOGPROBS));

    /**
     * The fields {@link #parse} reads, on both generation endpoints: OpenAI's sampling fields and vLLM's
     * extra sampling parameters that this server implements.
     */
    static final Set<String> FIELDS = JsonFields.fields(
            BODY_FIELDS.stream().map(SamplingField::key).collect(Collectors.toUnmodifiableSet()),
            Set.of("best_of", "max_completion_tokens", "priority", "include_stop_str_in_output", "use_beam_search"));

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
        String maxParam = JsonFields.opt(o, "max_completion_tokens") != null ? "max_completion_tokens" : "max_tokens";
        SamplingValues values = SamplingValues.read(BODY_FIELDS,
                f -> read(o, f == SamplingField.MAX_TOKENS ? maxParam : f.key(), f, vocab));
        Integer topK = values.integer(SamplingField.TOP_K);
        if (topK != null && topK == -1) values = values.with(SamplingField.TOP_K, 0);   // vLLM's older spelling of "off"
        Integer priority = JsonFields.integer(o, "priority");
        return new SamplingRequest(values, maxParam, priority == null ? 0 : priority);
    }

    /** A field's value in the body, typed as the table says, or null when absent. */
    private static Object read(ObjectNode o, String name, SamplingField f, int vocab) {
        return switch (f.type()) {
            case INT -> JsonFields.integer(o, name);
            case LONG -> JsonFields.longValue(o, name);
            case FLOAT -> JsonFields.number(o, name);
            case BOOL -> JsonFields.bool(o, name);
            case STRINGS -> stop(o, name);
            case TOKEN_IDS -> tokenIds(o, name, vocab);
            case TOKEN_BIAS -> logitBias(o, name, vocab);
            case CONSTRAINT -> responseFormat(o, name);
        };
    }

    /** The longest schema accepted, as compact JSON text (the grammar engine bounds it again, by its own limits). */
    static final int MAX_SCHEMA_CHARS = 1 << 20;

    /**
     * OpenAI's response_format: {@code {"type":"text"}} (no constraint), {@code {"type":"json_object"}},
     * {@code {"type":"json_schema","json_schema":{"name","description","schema","strict"}}}. The schema itself is
     * checked by the grammar engine when the engine compiles it (a 400 naming the keyword and its path).
     */
    static Constraint responseFormat(ObjectNode o, String name) {
        JsonNode v = JsonFields.opt(o, name);
        if (v == null) return null;
        if (!v.isObject()) throw JsonFields.wrongType(name, "an object", v);
        ObjectNode f = (ObjectNode) v;
        JsonNode typeNode = JsonFields.opt(f, "type");
        if (typeNode == null) throw OpenAiException.invalid(name, "response_format needs a 'type': 'text', 'json_object' or 'json_schema'");
        if (!typeNode.isTextual()) throw wrong(name, name + ".type", "a string", typeNode);
        String type = typeNode.textValue();
        return switch (type) {
            case "text" -> null;
            case "json_object" -> new Constraint.JsonObject();
            case "json_schema" -> jsonSchema(f, name);
            default -> throw OpenAiException.invalid(name, "response_format type '" + JsonFields.clip(type)
                    + "' is not supported: use 'text', 'json_object' or 'json_schema'");
        };
    }

    private static Constraint jsonSchema(ObjectNode f, String name) {
        JsonNode js = JsonFields.opt(f, "json_schema");
        if (js == null) throw OpenAiException.invalid(name, "response_format of type 'json_schema' needs a 'json_schema' object");
        if (!js.isObject()) throw wrong(name, name + ".json_schema", "an object", js);
        ObjectNode spec = (ObjectNode) js;
        JsonNode schemaName = JsonFields.opt(spec, "name");
        if (schemaName != null && !schemaName.isTextual()) throw wrong(name, name + ".json_schema.name", "a string", schemaName);
        JsonNode description = JsonFields.opt(spec, "description");
        if (description != null && !description.isTextual()) {
            throw wrong(name, name + ".json_schema.description", "a string", description);
        }
        JsonNode strictNode = JsonFields.opt(spec, "strict");
        if (strictNode != null && !strictNode.isBoolean()) throw wrong(name, name + ".json_schema.strict", "a boolean", strictNode);
        JsonNode schema = JsonFields.opt(spec, "schema");
        if (schema == null) throw OpenAiException.invalid(name, "response_format.json_schema needs a 'schema'");
        if (!schema.isObject() && !schema.isBoolean()) throw wrong(name, name + ".json_schema.schema", "a JSON Schema object", schema);
        String text;
        try {
            text = Json.MAPPER.writeValueAsString(schema);
        } catch (JsonProcessingException e) {
            throw OpenAiException.invalid(name, "response_format.json_schema.schema cannot be read: " + e.getOriginalMessage());
        }
        if (text.length() > MAX_SCHEMA_CHARS) {
            throw OpenAiException.invalid(name, "response_format.json_schema.schema is " + text.length() + " characters; the limit is "
                    + MAX_SCHEMA_CHARS);
        }
        return new Constraint.JsonSchema(text, strictNode != null && strictNode.booleanValue());
    }

    /** A part of response_format of the wrong type: the 400's param is the field, the message names the part. */
    private static OpenAiException wrong(String param, String where, String expected, JsonNode got) {
        return OpenAiException.invalid(param, "'" + where + "' must be " + expected + ", got " + JsonFields.describe(got));
    }

    private static Map<Integer, Float> logitBias(ObjectNode o, String name, int vocab) {
        JsonNode v = JsonFields.opt(o, name);
        if (v == null) return null;
        if (!v.isObject()) throw JsonFields.wrongType(name, "an object mapping token ids to biases", v);
        Map<Integer, Float> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException ex) {
                throw OpenAiException.invalid(name, name + " keys must be token ids, got '" + JsonFields.clip(e.getKey()) + "'");
            }
            if (id < 0 || id >= vocab) {
                throw OpenAiException.invalid(name, name + " token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
            out.put(id, JsonFields.toFloat(e.getValue(), name));
        }
        return out;
    }

    private static List<String> stop(ObjectNode o, String name) {
        JsonNode v = JsonFields.opt(o, name);
        if (v == null) return null;
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.textValue());
        } else if (v.isArray()) {
            for (JsonNode s : v) {
                if (!s.isTextual()) throw JsonFields.wrongType(name, "a string or an array of strings", s);
                out.add(s.textValue());
            }
        } else {
            throw JsonFields.wrongType(name, "a string or an array of strings", v);
        }
        for (String s : out) {
            if (s.length() > MAX_STOP_LENGTH) {
                throw OpenAiException.invalid(name, "stop strings must be at most " + MAX_STOP_LENGTH + " characters");
            }
        }
        return out;
    }

    private static int[] tokenIds(ObjectNode o, String name, int vocab) {
        JsonNode v = JsonFields.opt(o, name);
        if (v == null) return null;
        if (!v.isArray()) throw JsonFields.wrongType(name, "an array of token ids", v);
        int[] ids = new int[v.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = JsonFields.toInt(v.get(i), name);
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw OpenAiException.invalid(name, "stop token id " + ids[i] + " is outside the vocabulary [0, " + vocab + ")");
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
        Integer maxTokens = values.integer(SamplingField.MAX_TOKENS);
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
        Integer min = values.integer(SamplingField.MIN_TOKENS);
        if (min != null && maxTokens != null && min > maxTokens) {
            throw OpenAiException.invalid("min_tokens", "min_tokens (" + min + ") must not exceed " + maxTokensParam + " (" + maxTokens + ")");
        }
        if (min != null && max >= 1 && min > max) min = max;
        SamplingValues fitted = values.with(SamplingField.MAX_TOKENS, max).with(SamplingField.MIN_TOKENS, min)
                .with(SamplingField.LOGPROBS, logprobs).with(SamplingField.TOP_LOGPROBS, topLogprobs);
        try {
            return fitted.toParams();
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

    /** The request field a {@link SamplingParams} validation message is about, under the name this request used. */
    static String paramOf(String message, String maxTokensParam, String logprobsParam) {
        return SamplingField.about(message).map(f -> f == SamplingField.MAX_TOKENS ? maxTokensParam
                : f == SamplingField.TOP_LOGPROBS ? logprobsParam : f.key()).orElse(null);
    }
}
