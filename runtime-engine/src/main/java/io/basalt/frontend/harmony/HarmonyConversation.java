package io.basalt.frontend.harmony;

import java.util.List;
import java.util.Objects;

/**
 * A conversation to render for gpt-oss.
 *
 * @param system                the system message's options, or null for no system message
 * @param developerInstructions rendered as a developer message "# Instructions\n\n…", or null for none
 * @param messages              the turns after those (user, assistant, tool replies)
 */
public record HarmonyConversation(HarmonySystem system, String developerInstructions, List<HarmonyMessage> messages) {
    public HarmonyConversation {
        messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
    }

    public static HarmonyConversation of(HarmonySystem system, HarmonyMessage... messages) {
        return new HarmonyConversation(system, null, List.of(messages));
    }
}
