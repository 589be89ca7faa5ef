package io.basalt.server.openai;

import io.basalt.frontend.tools.ToolCall;
import java.util.List;

/**
 * One message of a chat request, content flattened to text.
 *
 * @param role             system, developer, user, assistant or tool
 * @param content          the text ("" when the message had none)
 * @param name             the optional "name" field (for a tool message: the tool's name, or the name of the
 *                         call its tool_call_id answers), or null
 * @param reasoningContent an assistant message's earlier reasoning ("reasoning_content" or "reasoning"), or null
 * @param toolCalls        an assistant message's "tool_calls" (arguments as given), empty for none
 * @param toolCallId       a tool message's "tool_call_id", or null
 */
public record ChatMessage(String role, String content, String name, String reasoningContent, List<ToolCall> toolCalls,
                          String toolCallId) {
    public static final List<String> ROLES = List.of("system", "developer", "user", "assistant", "tool");

    public ChatMessage {
        if (!ROLES.contains(role)) throw new IllegalArgumentException("unknown role " + role);
        content = content == null ? "" : content;
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatMessage(String role, String content, String name, String reasoningContent) {
        this(role, content, name, reasoningContent, List.of(), null);
    }

    public static ChatMessage of(String role, String content) { return new ChatMessage(role, content, null, null); }
}
