package io.basalt.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A POST /v1/chat/completions body, type-checked. An unknown top-level field is a 400, as in OpenAI's
 * API ({@link #FIELDS}); OpenAI features this server does not implement (tools) are a
 * 400 rather than silently ignored, since ignoring them would change what the client gets.
 *
 * @param model           the requested model name, or null (then the served model)
 * @param reasoningEffort "low", "medium", "high" (or another OpenAI value, which only harmony refuses), or null
 * @param topLogprobs     0..20 alternatives per token (requires logprobs)
 */
public record ChatRequest(String model, List<ChatMessage> messages, SamplingRequest sampling, boolean stream,
                          boolean includeUsage, boolean logprobs, int topLogprobs, String reasoningEffort,
                          boolean addGenerationPrompt) {
    static final List<String> EFFORTS = List.of("none", "minimal", "low", "medium", "high", "xhigh", "max");

    /**
     * Every top-level field /v1/chat/completions accepts: the fields of OpenAI's current API (those this
     * server does not act on, such as user, metadata, store, service_tier or audio, are accepted and
     * ignored; tools and functions are refused when used; response_format is a sampling field), the shared
     * sampling fields, and vLLM's add_generation_prompt. Anything else is a 400.
     */
    static final Set<String> FIELDS = JsonFields.fields(SamplingRequest.FIELDS, Set.of("model", "messages", "stream",
            "stream_options", "logprobs", "top_logprobs", "reasoning_effort", "response_format", "tools", "tool_choice",
            "parallel_tool_calls", "functions", "function_call", "user", "metadata", "store", "service_tier", "modalities",
            "prediction", "audio", "web_search_options", "safety_identifier", "prompt_cache_key", "prompt_cache_retention",
            "prompt_cache_options", "verbosity", "moderation", "add_generation_prompt"));

    public static ChatRequest parse(ObjectNode o, int vocab) {
        JsonFields.requireKnown(o, FIELDS);
        String model = JsonFields.string(o, "model");
        List<ChatMessage> messages = messages(o);
        unsupported(o);
        Boolean logprobs = JsonFields.bool(o, "logprobs");
        Integer top = JsonFields.integer(o, "top_logprobs");
        if (top != null && (top < 0 || top > SamplingParams.MAX_TOP_LOGPROBS)) {
            throw OpenAiException.invalid("top_logprobs", "top_logprobs must be between 0 and " + SamplingParams.MAX_TOP_LOGPROBS
                    + ", got " + top);
        }
        if (top != null && top > 0 && (logprobs == null || !logprobs)) {
            throw OpenAiException.invalid("top_logprobs", "top_logprobs requires logprobs to be true");
        }
        String effort = JsonFields.string(o, "reasoning_effort");
        if (effort != null) {
            effort = effort.toLowerCase(Locale.ROOT);
            if (!EFFORTS.contains(effort)) {
                throw OpenAiException.invalid("reasoning_effort", "reasoning_effort must be one of " + EFFORTS + ", got '"
                        + JsonFields.clip(effort) + "'");
            }
        }
        Boolean addGeneration = JsonFields.bool(o, "add_generation_prompt");
        Boolean stream = JsonFields.bool(o, "stream");
        return new ChatRequest(model, messages, SamplingRequest.parse(o, vocab), stream != null && stream,
                CompletionRequest.includeUsage(o), logprobs != null && logprobs, top == null ? 0 : top, effort,
                addGeneration == null || addGeneration);
    }

    private static void unsupported(ObjectNode o) {
        JsonNode tools = JsonFields.opt(o, "tools");
        if (tools != null && !(tools.isArray() && tools.isEmpty())) {
            throw OpenAiException.unsupported("tools", "tools (function calling) are not supported by this server");
        }
        JsonNode functions = JsonFields.opt(o, "functions");
        if (functions != null && !(functions.isArray() && functions.isEmpty())) {
            throw OpenAiException.unsupported("functions", "functions (function calling) are not supported by this server");
        }
    }

    private static List<ChatMessage> messages(ObjectNode o) {
        JsonNode v = JsonFields.opt(o, "messages");
        if (v == null) throw OpenAiException.invalid("messages", "'messages' is required");
        if (!v.isArray()) throw JsonFields.wrongType("messages", "an array of messages", v);
        if (v.isEmpty()) throw OpenAiException.invalid("messages", "'messages' must contain at least one message");
        List<ChatMessage> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) out.add(message(v.get(i), "messages[" + i + "]"));
        return out;
    }

    private static ChatMessage message(JsonNode v, String where) {
        if (!v.isObject()) throw OpenAiException.invalid("messages", where + " must be an object, got " + JsonFields.describe(v));
        ObjectNode m = (ObjectNode) v;
        JsonNode roleNode = JsonFields.opt(m, "role");
        if (roleNode == null) throw OpenAiException.invalid("messages", where + " has no 'role'");
        if (!roleNode.isTextual()) throw OpenAiException.invalid("messages", where + ".role must be a string");
        String role = roleNode.textValue();
        if (!ChatMessage.ROLES.contains(role)) {
            throw OpenAiException.invalid("messages", "Unknown role '" + JsonFields.clip(role) + "' in " + where
                    + "; expected one of " + ChatMessage.ROLES);
        }
        String content = content(JsonFields.opt(m, "content"), where);
        if (content == null && !role.equals("assistant")) {
            throw OpenAiException.invalid("messages", where + " (" + role + ") needs a 'content'");
        }
        String name = textField(m, "name", where);
        String reasoning = textField(m, "reasoning_content", where);
        if (reasoning == null) reasoning = textField(m, "reasoning", where);
        return new ChatMessage(role, content, name, reasoning);
    }

    private static String textField(ObjectNode m, String field, String where) {
        JsonNode v = JsonFields.opt(m, field);
        if (v == null) return null;
        if (!v.isTextual()) throw OpenAiException.invalid("messages", where + "." + field + " must be a string");
        return v.textValue();
    }

    /** A string, or an array of {"type":"text","text":…} parts joined with newlines (as vLLM joins them). */
    private static String content(JsonNode v, String where) {
        if (v == null) return null;
        if (v.isTextual()) return v.textValue();
        if (!v.isArray()) throw OpenAiException.invalid("messages", where + ".content must be a string or an array of parts");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.size(); i++) {
            JsonNode part = v.get(i);
            if (!part.isObject()) throw OpenAiException.invalid("messages", where + ".content[" + i + "] must be an object");
            JsonNode type = part.get("type");
            if (type == null || !type.isTextual()) {
                throw OpenAiException.invalid("messages", where + ".content[" + i + "] needs a string 'type'");
            }
            if (!type.textValue().equals("text")) {
                throw OpenAiException.unsupported("messages", "content parts of type '" + JsonFields.clip(type.textValue())
                        + "' are not supported (only 'text')");
            }
            JsonNode text = part.get("text");
            if (text == null || !text.isTextual()) {
                throw OpenAiException.invalid("messages", where + ".content[" + i + "] needs a string 'text'");
            }
            if (i > 0) sb.append('\n');
            sb.append(text.textValue());
        }
        return sb.toString();
    }
}
