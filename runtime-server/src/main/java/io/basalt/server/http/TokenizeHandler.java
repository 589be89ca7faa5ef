package io.basalt.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.server.openai.ChatRequest;
import io.basalt.server.openai.Json;
import io.basalt.server.openai.OpenAiException;
import io.basalt.server.openai.OpenAiModel;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.HashSet;
import java.util.Set;

/**
 * vLLM's POST /tokenize ({"model", "prompt"[, "add_special_tokens"]} or {"model", "messages"[,
 * "add_generation_prompt"]} → {"tokens", "count", "max_model_len"}) and POST /detokenize
 * ({"model", "tokens"} → {"prompt"}). A prompt is tokenized as /v1/completions would (BOS rules
 * included unless add_special_tokens is false), messages as /v1/chat/completions would. Any other
 * field is a 400 "Unrecognized request argument", as on the generation endpoints.
 */
final class TokenizeHandler {
    /** vLLM's fields for a prompt; return_token_strs is known but only false is supported. */
    static final Set<String> PROMPT_FIELDS = Set.of("model", "prompt", "add_special_tokens", "return_token_strs");
    /**
     * vLLM's fields for messages that this server implements (reasoning_effort as in chat completions);
     * the known flags it does not implement are refused unless false; tools render as in chat completions (harmony only).
     */
    static final Set<String> CHAT_FIELDS = Set.of("model", "messages", "add_generation_prompt", "reasoning_effort",
            "add_special_tokens", "continue_final_message", "return_token_strs", "tools", "tool_choice");
    static final Set<String> DETOKENIZE_FIELDS = Set.of("model", "tokens");

    private final ServerContext context;

    TokenizeHandler(ServerContext context) { this.context = context; }

    void tokenize(Exchange ex) {
        ObjectNode body = Json.parseObject(ex.body());
        OpenAiModel model = context.model;
        JsonNode prompt = body.get("prompt"), messages = body.get("messages");
        boolean hasPrompt = prompt != null && !prompt.isNull(), hasMessages = messages != null && !messages.isNull();
        Set<String> known = new HashSet<>(hasMessages ? CHAT_FIELDS : PROMPT_FIELDS);
        if (hasPrompt == hasMessages) known.addAll(hasMessages ? PROMPT_FIELDS : CHAT_FIELDS);
        Json.requireKnown(body, known);
        model.resolve(string(body, "model"));
        if (hasPrompt == hasMessages) throw OpenAiException.invalid(null, "Send exactly one of 'prompt' and 'messages'");
        if (hasPrompt && !prompt.isTextual()) throw OpenAiException.invalid("prompt", "'prompt' must be a string");
        Boolean addSpecial = bool(body, "add_special_tokens");
        unsupportedIfTrue(body, "return_token_strs");
        if (hasMessages) {
            unsupportedIfTrue(body, "add_special_tokens");
            unsupportedIfTrue(body, "continue_final_message");
        }
        ChatRequest chat = hasMessages ? ChatRequest.parse(chatBody(body), model.vocab()) : null;
        ex.offload(context, () -> {
            int[] ids;
            if (chat != null) {
                ids = model.renderChat(chat.messages(), chat.reasoningEffort(), chat.addGenerationPrompt(), chat.activeTools());
            } else if (addSpecial == null || addSpecial) {
                ids = model.tokenizePrompt(prompt.textValue(), "prompt");
            } else {
                model.checkTextSize(OpenAiModel.utf8Length(prompt.textValue()), "prompt");
                ids = model.tokenizer().encode(prompt.textValue());
            }
            ObjectNode r = Json.object();
            ArrayNode tokens = r.putArray("tokens");
            for (int id : ids) tokens.add(id);
            r.put("count", ids.length);
            r.put("max_model_len", model.contextLength());
            ex.execute(() -> ex.sendJson(HttpResponseStatus.OK, r));
        }, hasMessages ? "messages" : "prompt");
    }

    /** Only what a chat tokenization needs, so sampling fields of a copied chat request do not matter. */
    private static ObjectNode chatBody(ObjectNode body) {
        ObjectNode o = Json.object();
        for (String f : new String[] {"messages", "add_generation_prompt", "reasoning_effort", "tools", "tool_choice"}) {
            if (body.has(f)) o.set(f, body.get(f));
        }
        return o;
    }

    void detokenize(Exchange ex) {
        ObjectNode body = Json.parseObject(ex.body());
        Json.requireKnown(body, DETOKENIZE_FIELDS);
        OpenAiModel model = context.model;
        model.resolve(string(body, "model"));
        JsonNode tokens = body.get("tokens");
        if (tokens == null || !tokens.isArray()) throw OpenAiException.invalid("tokens", "'tokens' must be an array of token ids");
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isNumber() || !t.canConvertToExactIntegral() || !t.canConvertToInt()) {
                throw OpenAiException.invalid("tokens", "'tokens' must be an array of token ids");
            }
            ids[i] = t.asInt();
            if (ids[i] < 0 || ids[i] >= model.vocab()) {
                throw OpenAiException.invalid("tokens", "token id " + ids[i] + " is outside the vocabulary [0, " + model.vocab() + ")");
            }
        }
        ex.offload(context, () -> {
            String text = model.tokenizer().decode(ids);
            ex.execute(() -> ex.sendJson(HttpResponseStatus.OK, Json.object().put("prompt", text)));
        }, "tokens");
    }

    private static String string(ObjectNode o, String name) {
        JsonNode v = o.get(name);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw OpenAiException.invalid(name, "'" + name + "' must be a string");
        return v.textValue();
    }

    /** A vLLM flag this server does not implement: false (its default) is fine, true is a 400. */
    private static void unsupportedIfTrue(ObjectNode o, String name) {
        Boolean v = bool(o, name);
        if (v != null && v) throw OpenAiException.unsupported(name, name + " is not supported by this server");
    }

    private static Boolean bool(ObjectNode o, String name) {
        JsonNode v = o.get(name);
        if (v == null || v.isNull()) return null;
        if (!v.isBoolean()) throw OpenAiException.invalid(name, "'" + name + "' must be a boolean");
        return v.booleanValue();
    }
}
