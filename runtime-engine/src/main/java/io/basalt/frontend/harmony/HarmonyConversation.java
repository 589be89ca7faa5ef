package io.basalt.frontend.harmony;

import io.basalt.frontend.tools.Tool;
import java.util.List;
import java.util.Objects;

/**
 * A conversation to render for gpt-oss.
 *
 * @param system                the system message's options, or null for no system message
 * @param developerInstructions rendered as a developer message "# Instructions\n\n…", or null for none
 * @param messages              the turns after those (user, assistant, tool calls and tool replies:
 *                              {@link HarmonyMessage#toolCall}, {@link HarmonyMessage#toolResult})
 * @param functions             the request's tools: the developer message's "# Tools" section with the
 *                              {@code functions} namespace (and the system message's line sending calls to the
 *                              commentary channel); empty for none
 */
public record HarmonyConversation(HarmonySystem system, String developerInstructions, List<HarmonyMessage> messages,
                                  List<Tool> functions) {
    public HarmonyConversation {
        messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
        functions = List.copyOf(Objects.requireNonNull(functions, "functions"));
    }

    /** A conversation without functions. */
    public HarmonyConversation(HarmonySystem system, String developerInstructions, List<HarmonyMessage> messages) {
        this(system, developerInstructions, messages, List.of());
    }

    public static HarmonyConversation of(HarmonySystem system, HarmonyMessage... messages) {
        return new HarmonyConversation(system, null, List.of(messages));
    }

    public HarmonyConversation withFunctions(List<Tool> tools) {
        return new HarmonyConversation(system, developerInstructions, messages, tools);
    }

    /** The developer message's text, or null when there is neither instructions nor functions. */
    String developerText() {
        if (developerInstructions == null && functions.isEmpty()) return null;
        StringBuilder sb = new StringBuilder();
        if (developerInstructions != null) sb.append("# Instructions\n\n").append(developerInstructions);
        if (!functions.isEmpty()) {
            if (!sb.isEmpty()) sb.append("\n\n");
            sb.append(HarmonyTools.section(List.of(HarmonyToolNamespace.functions(functions))));
        }
        return sb.toString();
    }
}
