package io.basalt.frontend.harmony;

import java.util.Objects;

/**
 * One harmony message: {@code <|start|>{role}[ to={recipient}][<|channel|>{channel}][ {contentType}]<|message|>{content}<|end|>}
 * ({@code <|call|>} instead of {@code <|end|>} for an assistant message with a recipient: a tool call).
 *
 * @param role                  "system", "developer", "user", "assistant", or for a tool's reply the tool's name
 *                              (e.g. "functions.get_weather"), as harmony renders tool authors
 * @param channel               "analysis", "commentary" or "final"; required for assistant messages, else null allowed
 * @param recipient             who the message is addressed to (a tool call: "functions.get_weather"), or null
 * @param contentType           e.g. "json" or "&lt;|constrain|&gt;json" for a tool call's arguments, or null
 * @param recipientAfterChannel where " to={recipient}" goes: false after the role (harmony's renderer:
 *                              {@code assistant to=functions.f<|channel|>commentary}), true after the channel (how
 *                              gpt-oss usually writes its calls, docs/format.md: {@code assistant<|channel|>commentary to=functions.f})
 */
public record HarmonyMessage(String role, String channel, String recipient, String contentType, String content,
                             boolean recipientAfterChannel) {
    public static final String FUNCTIONS_PREFIX = "functions.";
    public static final String JSON_CONSTRAINED = "<|constrain|>json";

    public HarmonyMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) throw new IllegalArgumentException("empty role");
        if (role.equals("assistant") && channel == null) {
            throw new IllegalArgumentException("assistant messages need a channel (analysis, commentary or final)");
        }
    }

    /** A message with the recipient (if any) after the role, as harmony renders it. */
    public HarmonyMessage(String role, String channel, String recipient, String contentType, String content) {
        this(role, channel, recipient, contentType, content, false);
    }

    /** A message with no recipient and no content type. */
    public HarmonyMessage(String role, String channel, String content) {
        this(role, channel, null, null, content);
    }

    public static HarmonyMessage user(String content) { return new HarmonyMessage("user", null, content); }

    public static HarmonyMessage assistant(String channel, String content) {
        return new HarmonyMessage("assistant", channel, content);
    }

    /**
     * An assistant's call of function {@code name} for the history, in the form gpt-oss generates:
     * {@code <|start|>assistant<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>ARGS<|call|>}.
     *
     * @param argumentsJson the arguments as the model wrote them (a string, not re-serialized)
     */
    public static HarmonyMessage toolCall(String name, String argumentsJson) {
        return new HarmonyMessage("assistant", "commentary", FUNCTIONS_PREFIX + name, JSON_CONSTRAINED, argumentsJson, true);
    }

    /**
     * Function {@code name}'s result (docs/format.md):
     * {@code <|start|>functions.NAME to=assistant<|channel|>commentary<|message|>RESULT<|end|>}.
     */
    public static HarmonyMessage toolResult(String name, String result) {
        return new HarmonyMessage(FUNCTIONS_PREFIX + name, "commentary", "assistant", null, result, false);
    }
}
