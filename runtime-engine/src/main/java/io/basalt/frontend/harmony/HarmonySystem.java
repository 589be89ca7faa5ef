package io.basalt.frontend.harmony;

import java.util.List;
import java.util.Objects;

/**
 * The content of harmony's system message (openai/harmony SystemContent).
 *
 * @param modelIdentity   first line, e.g. "You are ChatGPT, a large language model trained by OpenAI."; null omits it
 * @param knowledgeCutoff e.g. "2024-06"; null omits the line
 * @param currentDate     e.g. "2025-06-28"; null omits the line
 * @param reasoningEffort null omits the "Reasoning:" line
 * @param validChannels   empty omits the "# Valid channels" line
 * @param tools           built-in tool namespaces (harmony's browser, python) rendered as a "# Tools" section before
 *                        the channels; the request's functions go in the developer message instead
 *                        ({@link HarmonyConversation#functions()})
 */
public record HarmonySystem(String modelIdentity, String knowledgeCutoff, String currentDate,
                            ReasoningEffort reasoningEffort, List<String> validChannels, List<HarmonyToolNamespace> tools) {
    public static final String DEFAULT_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI.";
    public static final List<String> DEFAULT_CHANNELS = List.of("analysis", "commentary", "final");

    public HarmonySystem {
        validChannels = List.copyOf(Objects.requireNonNull(validChannels, "validChannels"));
        tools = List.copyOf(Objects.requireNonNull(tools, "tools"));
    }

    /** A system message without built-in tools. */
    public HarmonySystem(String modelIdentity, String knowledgeCutoff, String currentDate,
                         ReasoningEffort reasoningEffort, List<String> validChannels) {
        this(modelIdentity, knowledgeCutoff, currentDate, reasoningEffort, validChannels, List.of());
    }

    /** harmony's SystemContent.new() defaults: identity above, cutoff 2024-06, medium effort, all three channels. */
    public static HarmonySystem defaults() {
        return new HarmonySystem(DEFAULT_IDENTITY, "2024-06", null, ReasoningEffort.MEDIUM, DEFAULT_CHANNELS);
    }

    public HarmonySystem withCurrentDate(String date) {
        return new HarmonySystem(modelIdentity, knowledgeCutoff, date, reasoningEffort, validChannels, tools);
    }

    public HarmonySystem withReasoningEffort(ReasoningEffort effort) {
        return new HarmonySystem(modelIdentity, knowledgeCutoff, currentDate, effort, validChannels, tools);
    }

    public HarmonySystem withModelIdentity(String identity) {
        return new HarmonySystem(identity, knowledgeCutoff, currentDate, reasoningEffort, validChannels, tools);
    }

    public HarmonySystem withValidChannels(List<String> channels) {
        return new HarmonySystem(modelIdentity, knowledgeCutoff, currentDate, reasoningEffort, channels, tools);
    }

    /** Adds built-in tool namespaces (rendered in name order, as harmony does). */
    public HarmonySystem withTools(HarmonyToolNamespace... namespaces) {
        List<HarmonyToolNamespace> all = new java.util.ArrayList<>(tools);
        all.addAll(List.of(namespaces));
        return new HarmonySystem(modelIdentity, knowledgeCutoff, currentDate, reasoningEffort, validChannels, all);
    }

    /** The system message text, section by section as harmony's renderer joins them. */
    String render() { return render(false); }

    /**
     * @param hasFunctionTools the conversation's developer message declares functions: the channels line is then
     *                         followed by "Calls to these tools must go to the commentary channel: 'functions'."
     */
    String render(boolean hasFunctionTools) {
        StringBuilder top = new StringBuilder();
        appendLine(top, modelIdentity);
        appendLine(top, knowledgeCutoff == null ? null : "Knowledge cutoff: " + knowledgeCutoff);
        appendLine(top, currentDate == null ? null : "Current date: " + currentDate);
        StringBuilder out = new StringBuilder(top);
        if (reasoningEffort != null) appendSection(out, "Reasoning: " + reasoningEffort.text());
        if (!tools.isEmpty()) appendSection(out, HarmonyTools.section(tools));
        if (!validChannels.isEmpty()) {
            appendSection(out, "# Valid channels: " + String.join(", ", validChannels)
                    + ". Channel must be included for every message."
                    + (hasFunctionTools ? "\nCalls to these tools must go to the commentary channel: 'functions'." : ""));
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
