package io.basalt.frontend.harmony;

import java.util.Objects;

/**
 * One harmony message: {@code <|start|>{role}[ to={recipient}][<|channel|>{channel}][ {contentType}]<|message|>{content}<|end|>}.
 *
 * @param role        "system", "developer", "user", "assistant", or for a tool's reply the tool's name
 *                    (e.g. "functions.get_weather"), as harmony renders tool authors
 * @param channel     "analysis", "commentary" or "final"; required for assistant messages, else null allowed
 * @param recipient   who the message is addressed to (a tool call: "functions.get_weather"), or null
 * @param contentType e.g. "json" or "&lt;|constrain|&gt;json" for a tool call's arguments, or null
 */
public record HarmonyMessage(String role, String channel, String recipient, String contentType, String content) {
    public HarmonyMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (role.isBlank()) throw new IllegalArgumentException("empty role");
        if (role.equals("assistant") && channel == null) {
            throw new IllegalArgumentException("assistant messages need a channel (analysis, commentary or final)");
        }
    }

    /** A message with no recipient and no content type. */
    public HarmonyMessage(String role, String channel, String content) {
        this(role, channel, null, null, content);
    }

    public static HarmonyMessage user(String content) { return new HarmonyMessage("user", null, content); }

    public static HarmonyMessage assistant(String channel, String content) {
        return new HarmonyMessage("assistant", channel, content);
    }
}
