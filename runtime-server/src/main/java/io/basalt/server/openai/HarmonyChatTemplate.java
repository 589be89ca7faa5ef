package io.basalt.server.openai;

import io.basalt.frontend.harmony.Harmony;
import io.basalt.frontend.harmony.HarmonyConversation;
import io.basalt.frontend.harmony.HarmonyMessage;
import io.basalt.frontend.harmony.HarmonySystem;
import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCall;
import io.basalt.tokenizer.Tokenizer;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * gpt-oss: messages → harmony (SERVING.md §5.1), as vLLM maps Chat Completions onto it.
 * <ul>
 *   <li>The harmony system message is the server's: default identity, knowledge cutoff, today's date
 *       (UTC), "Reasoning: " + reasoning_effort (default medium), the three channels.</li>
 *   <li>The request's system and developer messages become the developer message's "# Instructions".</li>
 *   <li>An assistant message becomes an analysis message (its reasoning_content) and a final message
 *       (its content); a tool message becomes {@code functions.NAME to=assistant} on the commentary channel.</li>
 * </ul>
 * Output is parsed by {@link HarmonyOutputParser}: analysis → reasoning_content, everything else → content.
 */
final class HarmonyChatTemplate implements ChatTemplate {
    private final Harmony harmony;
    private final Tokenizer tokenizer;
    private final int assistantHeaderLength;

    HarmonyChatTemplate(Tokenizer tokenizer) {
        this.harmony = new Harmony(tokenizer);
        this.tokenizer = tokenizer;
        this.assistantHeaderLength = 1 + tokenizer.encode("assistant").length;
    }

    @Override public String name() { return "harmony"; }

    Harmony harmony() { return harmony; }

    @Override public boolean supportsTools() { return true; }

    /**
     * gpt-oss writes a call header as {@code <|channel|>commentary to=functions.NAME <|constrain|>json<|message|>}, and
     * sometimes with the recipient first ({@code  to=functions.NAME<|channel|>commentary …}) or without
     * {@code <|constrain|>json}: four triggers, each ending at {@code <|message|>}, where compact arguments begin.
     */
    @Override
    public List<io.basalt.api.Constraint.Tag> toolCallTags(Tool tool, String argumentsSchema) {
        String to = " to=functions." + tool.name();
        return java.util.stream.Stream.of("<|channel|>commentary" + to + " <|constrain|>json<|message|>",
                        "<|channel|>commentary" + to + "<|message|>",
                        to + "<|channel|>commentary <|constrain|>json<|message|>",
                        to + "<|channel|>commentary<|message|>")
                .map(h -> new io.basalt.api.Constraint.Tag(tokenizer.encodeWithSpecials(h), argumentsSchema, true))
                .toList();
    }

    @Override
    public int[] toolStopIds() {
        return io.basalt.frontend.tools.ToolCallFormat.HARMONY.stopTokens().stream()
                .mapToInt(t -> tokenizer.encodeWithSpecials(t)[0]).toArray();
    }

    @Override
    public io.basalt.frontend.tools.ToolCallParser newToolParser(List<Tool> tools, io.basalt.frontend.tools.ToolCallIds ids) {
        return new io.basalt.frontend.harmony.HarmonyToolParser(harmony, tools.stream().map(Tool::name).toList(), ids);
    }

    @Override
    public int[] render(List<ChatMessage> messages, String effort, boolean addGenerationPrompt) {
        return render(messages, effort, addGenerationPrompt, List.of());
    }

    /**
     * With {@code tools}, the developer message declares them ({@code namespace functions}); an assistant message's
     * tool_calls render as gpt-oss writes calls (its content, if any, as a commentary preamble before them), and a
     * tool message as {@code functions.NAME to=assistant}.
     */
    @Override
    public int[] render(List<ChatMessage> messages, String effort, boolean addGenerationPrompt, List<Tool> tools) {
        HarmonySystem system = HarmonySystem.defaults()
                .withReasoningEffort(ChatTemplate.harmonyEffort(effort))
                .withCurrentDate(LocalDate.now(ZoneOffset.UTC).toString());
        StringBuilder instructions = new StringBuilder();
        List<HarmonyMessage> turns = new ArrayList<>();
        for (ChatMessage m : messages) {
            switch (m.role()) {
                case "system", "developer" -> {
                    if (!instructions.isEmpty()) instructions.append("\n\n");
                    instructions.append(m.content());
                }
                case "user" -> turns.add(HarmonyMessage.user(m.content()));
                case "assistant" -> {
                    if (m.reasoningContent() != null && !m.reasoningContent().isEmpty()) {
                        turns.add(HarmonyMessage.assistant("analysis", m.reasoningContent()));
                    }
                    if (!m.content().isEmpty()) {
                        turns.add(HarmonyMessage.assistant(m.toolCalls().isEmpty() ? "final" : "commentary", m.content()));
                    }
                    for (ToolCall c : m.toolCalls()) turns.add(HarmonyMessage.toolCall(c.name(), c.argumentsJson()));
                }
                case "tool" -> turns.add(HarmonyMessage.toolResult(m.name() == null ? "tool" : m.name(), m.content()));
                default -> throw new IllegalStateException("role " + m.role());
            }
        }
        int[] ids = harmony.render(new HarmonyConversation(system, instructions.isEmpty() ? null : instructions.toString(), turns,
                tools));
        return addGenerationPrompt ? ids : java.util.Arrays.copyOf(ids, ids.length - assistantHeaderLength);
    }

    @Override
    public ChatOutputParser newParser(int lastPromptToken) { return new HarmonyOutputParser(tokenizer); }
}
