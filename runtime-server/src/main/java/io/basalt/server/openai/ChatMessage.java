package io.basalt.server.openai;

/**
 * One message of a chat request, content flattened to text.
 *
 * @param role             system, developer, user, assistant or tool
 * @param content          the text ("" when the message had none)
 * @param name             the optional "name" field (for a tool message: the tool's name), or null
 * @param reasoningContent an assistant message's earlier reasoning ("reasoning_content" or "reasoning"), or null
 */
public record ChatMessage(String role, String content, String name, String reasoningContent) {
    public static final java.util.List<String> ROLES = java.util.List.of("system", "developer", "user", "assistant", "tool");

    public ChatMessage {
        if (!ROLES.contains(role)) throw new IllegalArgumentException("unknown role " + role);
        content = content == null ? "" : content;
    }

    public static ChatMessage of(String role, String content) { return new ChatMessage(role, content, null, null); }
}
