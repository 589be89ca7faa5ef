package io.basalt.frontend.harmony;

import java.util.List;
import java.util.Objects;

/**
 * The content of harmony's system message (openai/harmony SystemContent without tools).
 *
 * @param modelIdentity   first line, e.g. "You are ChatGPT, a large language model trained by OpenAI."; null omits it
 * @param knowledgeCutoff e.g. "2024-06"; null omits the line
 * @param currentDate     e.g. "2025-06-28"; null omits the line
 * @param reasoningEffort null omits the "Reasoning:" line
 * @param validChannels   empty omits the "# Valid channels" line
 */
public record HarmonySystem(String modelIdentity, String knowledgeCutoff, String currentDate,
                            ReasoningEffort reasoningEffort, List<String> validChannels) {
    public static final String DEFAULT_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI.";
    public static final List<String> DEFAULT_CHANNELS = List.of("analysis", "commentary", "final");

    public HarmonySystem {
        validChannels = List.copyOf(Objects.requireNonNull(validChannels, "validChannels"));
    }

    /** harmony's SystemContent.new() defaults: identity above, cutoff 2024-06, medium effort, all three channels. */
    public static HarmonySystem defaults() {
        return new HarmonySystem(DEFAULT_IDENTITY, "2024-06", null, ReasoningEffort.MEDIUM, DEFAULT_CHANNELS);
    }

    public HarmonySystem withCurrentDate(String date) {
        return new HarmonySystem(modelIdentity, knowledgeCutoff, date, reasoningEffort, validChannels);
    }

    public HarmonySystem withReasoningEffort(ReasoningEffort effort) {
        return new HarmonySystem(modelIdentity, knowledgeCutoff, currentDate, effort, validChannels);
    }

    public HarmonySystem withModelIdentity(String identity) {
        return new HarmonySystem(identity, knowledgeCutoff, currentDate, reasoningEffort, validChannels);
    }

    /** The system message text, section by section as harmony's renderer joins them. */
    String render() {
        StringBuilder top = new StringBuilder();
        appendLine(top, modelIdentity);
        appendLine(top, knowledgeCutoff == null ? null : "Knowledge cutoff: " + knowledgeCutoff);
        appendLine(top, currentDate == null ? null : "Current date: " + currentDate);
        StringBuilder out = new StringBuilder(top);
        if (reasoningEffort != null) appendSection(out, "Reasoning: " + reasoningEffort.text());
        if (!validChannels.isEmpty()) {
            appendSection(out, "# Valid channels: " + String.join(", ", validChannels)
                    + ". Channel must be included for every message.");
        }
        return out.toString();
    }

    private static void appendLine(StringBuilder sb, String line) {
        if (line == null) return;
        if (!sb.isEmpty()) sb.append('\n');
        sb.append(line);
    }

    private static void appendSection(StringBuilder sb, String section) {
        if (!sb.isEmpty()) sb.append("\n\n");
        sb.append(section);
    }
}
