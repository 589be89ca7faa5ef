package io.basalt.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCall;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A POST /v1/chat/completions body, type-checked. An unknown top-level field is a 400, as in OpenAI's
 * API ({@link #FIELDS}); OpenAI features this server does not implement (legacy functions, tool_choice
 * allowed_tools or custom) are a 400 rather than silently ignored, since ignoring them would change
 * what the client gets. {@code tools} are parsed here; whether the model can take them (harmony only, so far)
 * is the handler's check.
 *
 * @param model           the requested model name, or null (then the served model)
 * @param reasoningEffort "low", "medium", "high" (or another OpenAI value, which only harmony refuses), or null
 * @param topLogprobs     0..20 alternatives per token (requires logprobs)
 * @param tools           the request's functions (empty for none)
 * @param toolChoice      none, auto, required or a named declared tool (not given: auto with tools, else none)
 * @param parallelToolCalls OpenAI's parallel_tool_calls (default true): false allows one call under tool_choice required
 * @param seed            the request's seed if it gave one (tool-call ids are then reproducible), else null
 */
public record ChatRequest(String model, List<ChatMessage> messages, SamplingRequest sampling, boolean stream,
                          boolean includeUsage, boolean logprobs, int topLogprobs, String reasoningEffort,
                          boolean addGenerationPrompt, List<Tool> tools, ToolChoice toolChoice, boolean parallelToolCalls,
                          Long seed) {
    private static final Pattern FUNCTION_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    public ChatRequest {
        tools = List.copyOf(tools);
    }

    /** The functions the prompt declares and the output parser looks for: none when tool_choice is "none". */
    public List<Tool> activeTools() { return toolChoice instanceof ToolChoice.None ? List.of() : tools; }

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
        List<Tool> tools = tools(o);
        ToolChoice toolChoice = toolChoice(o, tools);
        Boolean parallel = JsonFields.bool(o, "parallel_tool_calls");
        if (toolChoice.forcesCalls()) {
            JsonNode format = JsonFields.opt(o, "response_format");
            JsonNode type = format == null ? null : format.get("type");
            if (format != null && !(type != null && type.isTextual() && type.textValue().equals("text"))) {
                throw OpenAiException.invalid("response_format", "response_format cannot be combined with tool_choice "
                        + "'required' or a named function: both constrain the output");
            }
        }
        resolveToolResults(messages);
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
                addGeneration == null || addGeneration, tools, toolChoice, parallel == null || parallel,
                JsonFields.longValue(o, "seed"));
    }

    private static List<Tool> tools(ObjectNode o) {
        JsonNode v = JsonFields.opt(o, "tools");
        if (v == null) return List.of();
        if (!v.isArray()) throw JsonFields.wrongType("tools", "an array of tools", v);
        List<Tool> out = new ArrayList<>(v.size());
        Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < v.size(); i++) {
            String where = "tools[" + i + "]";
            JsonNode t = v.get(i);
            if (!t.isObject()) throw OpenAiException.invalid("tools", where + " must be an object");
            JsonNode type = t.get("type");
            if (type == null || !type.isTextual() || !type.textValue().equals("function")) {
                throw OpenAiException.unsupported("tools", where + ".type must be 'function' (the only tool type supported)");
            }
            JsonNode f = t.get("function");
            if (f == null || !f.isObject()) throw OpenAiException.invalid("tools", where + ".function must be an object");
            JsonNode name = f.get("name");
            if (name == null || !name.isTextual() || !FUNCTION_NAME.matcher(name.textValue()).matches()) {
                throw OpenAiException.invalid("tools", where + ".function.name must be a string of 1 to 64 characters "
                        + "a-z, A-Z, 0-9, '_' or '-'");
            }
            if (!names.add(name.textValue())) {
                throw OpenAiException.invalid("tools", "two tools are named '" + name.textValue() + "'");
            }
            JsonNode description = f.get("description");
            if (description != null && !description.isNull() && !description.isTextual()) {
                throw OpenAiException.invalid("tools", where + ".function.description must be a string");
            }
            JsonNode parameters = f.get("parameters");
            if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
                throw OpenAiException.invalid("tools", where + ".function.parameters must be a JSON Schema object");
            }
            JsonNode strict = f.get("strict");
            if (strict != null && !strict.isNull() && !strict.isBoolean()) {
                throw OpenAiException.invalid("tools", where + ".function.strict must be a boolean");
            }
            String parametersJson;
            try {
                parametersJson = parameters == null || parameters.isNull() ? null : Json.MAPPER.writeValueAsString(parameters);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw OpenAiException.invalid("tools", where + ".function.parameters: " + e.getOriginalMessage());
            }
            out.add(new Tool(name.textValue(), description == null || description.isNull() ? null : description.textValue(),
                    parametersJson, strict != null && strict.booleanValue()));
        }
        return out;
    }

    /**
     * none, auto, required, or {"type":"function","function":{"name":N}} naming a declared tool; required and named
     * need tools. allowed_tools and custom tools are a 400 (not implemented).
     */
    private static ToolChoice toolChoice(ObjectNode o, List<Tool> tools) {
        JsonNode v = JsonFields.opt(o, "tool_choice");
        if (v == null) return tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        if (v.isTextual()) {
            return switch (v.textValue()) {
                case "none" -> ToolChoice.NONE;
                case "auto" -> ToolChoice.AUTO;
                case "required" -> {
                    if (tools.isEmpty()) throw OpenAiException.invalid("tool_choice", "tool_choice 'required' needs 'tools'");
                    yield ToolChoice.REQUIRED;
                }
                default -> throw OpenAiException.invalid("tool_choice", "tool_choice must be 'none', 'auto', 'required' or a "
                        + "named function, got '" + JsonFields.clip(v.textValue()) + "'");
            };
        }
        if (!v.isObject()) throw JsonFields.wrongType("tool_choice", "a string or an object", v);
        JsonNode type = v.get("type");
        if (type == null || !type.isTextual()) {
            throw OpenAiException.invalid("tool_choice", "tool_choice as an object needs a string 'type' ('function')");
        }
        if (!type.textValue().equals("function")) {
            throw OpenAiException.unsupported("tool_choice", "tool_choice of type '" + JsonFields.clip(type.textValue())
                    + "' is not supported (only 'none', 'auto', 'required' and {\"type\":\"function\",...})");
        }
        JsonNode f = v.get("function");
        JsonNode name = f == null || !f.isObject() ? null : f.get("name");
        if (name == null || !name.isTextual()) {
            throw OpenAiException.invalid("tool_choice", "tool_choice of type 'function' needs 'function': {\"name\": ...}");
        }
        String n = name.textValue();
        if (tools.stream().noneMatch(t -> t.name().equals(n))) {
            throw OpenAiException.invalid("tool_choice", "tool_choice names function '" + JsonFields.clip(n)
                    + "', which is not in 'tools'");
        }
        return new ToolChoice.Named(n);
    }

    /** A tool message that answers a tool_call_id gets the name of the assistant's call with that id. */
    private static void resolveToolResults(List<ChatMessage> messages) {
        Map<String, String> names = new HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            for (ToolCall c : m.toolCalls()) names.put(c.id(), c.name());
            if (m.role().equals("tool") && m.toolCallId() != null) {
                String name = names.get(m.toolCallId());
                if (name == null) {
                    throw OpenAiException.invalid("messages", "messages[" + i + "].tool_call_id '" + JsonFields.clip(m.toolCallId())
                            + "' does not match a tool call of an earlier assistant message");
                }
                messages.set(i, new ChatMessage("tool", m.content(), name, null, List.of(), m.toolCallId()));
            }
        }
    }

    private static void unsupported(ObjectNode o) {
        JsonNode functions = JsonFields.opt(o, "functions");
        if (functions != null && !(functions.isArray() && functions.isEmpty())) {
            throw OpenAiException.unsupported("functions", "the legacy 'functions' are not supported by this server; use 'tools'");
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
        List<ToolCall> calls = role.equals("assistant") ? toolCalls(JsonFields.opt(m, "tool_calls"), where) : List.of();
        String toolCallId = role.equals("tool") ? textField(m, "tool_call_id", where) : null;
        if (content == null && !role.equals("assistant")) {
            throw OpenAiException.invalid("messages", where + " (" + role + ") needs a 'content'");
        }
        String name = textField(m, "name", where);
        String reasoning = textField(m, "reasoning_content", where);
        if (reasoning == null) reasoning = textField(m, "reasoning", where);
        return new ChatMessage(role, content, name, reasoning, calls, toolCallId);
    }

    private static List<ToolCall> toolCalls(JsonNode v, String where) {
        if (v == null) return List.of();
        if (!v.isArray()) throw OpenAiException.invalid("messages", where + ".tool_calls must be an array");
        List<ToolCall> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            String at = where + ".tool_calls[" + i + "]";
            JsonNode c = v.get(i);
            if (!c.isObject()) throw OpenAiException.invalid("messages", at + " must be an object");
            JsonNode id = c.get("id"), f = c.get("function");
            if (id == null || !id.isTextual()) throw OpenAiException.invalid("messages", at + " needs a string 'id'");
            JsonNode type = c.get("type");
            if (type != null && !type.isNull() && !(type.isTextual() && type.textValue().equals("function"))) {
                throw OpenAiException.unsupported("messages", at + ".type must be 'function'");
            }
            if (f == null || !f.isObject()) throw OpenAiException.invalid("messages", at + " needs a 'function' object");
            JsonNode name = f.get("name"), arguments = f.get("arguments");
            if (name == null || !name.isTextual() || name.textValue().isEmpty()) {
                throw OpenAiException.invalid("messages", at + ".function needs a string 'name'");
            }
            if (arguments == null || !arguments.isTextual()) {
                throw OpenAiException.invalid("messages", at + ".function.arguments must be a string (JSON text)");
            }
            out.add(new ToolCall(id.textValue(), name.textValue(), arguments.textValue()));
        }
        return out;
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
