package io.basalt.server.openai;

import io.basalt.frontend.harmony.ReasoningEffort;
import io.basalt.frontend.tools.ToolCallFormat;
import io.basalt.server.ChatSettings;
import io.basalt.server.ServedModel;
import io.basalt.spi.Architecture;
import java.util.List;
import java.util.logging.Logger;

/**
 * Turns chat messages into prompt ids and the generated ids back into reasoning and content. Chosen
 * once per model by {@link #forModel}: gpt-oss → harmony; a model that ships a Jinja chat template
 * (tokenizer_config.json "chat_template", chat_template.jinja, or GGUF tokenizer.chat_template) →
 * that template; anything else → {@link PlainChatTemplate}.
 */
public interface ChatTemplate {
    /** "harmony", "jinja" or "plain". */
    String name();

    /**
     * The prompt ids of a conversation.
     *
     * @param effort              the request's reasoning_effort (lower case), or null
     * @param addGenerationPrompt end where the assistant's reply begins (the usual case)
     */
    int[] render(List<ChatMessage> messages, String effort, boolean addGenerationPrompt);

    /**
     * The prompt ids of a conversation that declares {@code tools} (empty: {@link #render(List, String, boolean)}).
     * Templates that cannot take tools refuse them ({@link #supportsTools()}).
     */
    default int[] render(List<ChatMessage> messages, String effort, boolean addGenerationPrompt, List<io.basalt.frontend.tools.Tool> tools) {
        if (!tools.isEmpty()) throw OpenAiException.unsupported("tools", TOOLS_UNSUPPORTED);
        return render(messages, effort, addGenerationPrompt);
    }

    /** Whether {@code tools} work with this template (harmony; a Jinja template that renders them, with a known call format). */
    default boolean supportsTools() { return false; }

    /** Ids that end the model's message when tools are active, besides its EOS (harmony: {@code <|call|>}, {@code <|return|>}). */
    default int[] toolStopIds() { return new int[0]; }

    /** A parser for the calls this template's model writes, looking for {@code tools}; templates without tools refuse. */
    default io.basalt.frontend.tools.ToolCallParser newToolParser(List<io.basalt.frontend.tools.Tool> tools,
                                                                  io.basalt.frontend.tools.ToolCallIds ids) {
        throw OpenAiException.unsupported("tools", TOOLS_UNSUPPORTED);
    }

    /**
     * The tagged-grammar regions that enforce a {@code strict} tool under tool_choice auto: one per form in which this
     * template's model writes the tool's call header (canonical tokenization of it), each opening where the arguments
     * begin, with {@code argumentsSchema}. Empty: this template cannot constrain calls in free output.
     */
    default List<io.basalt.api.Constraint.Tag> toolCallTags(io.basalt.frontend.tools.Tool tool, String argumentsSchema) {
        return List.of();
    }

    String TOOLS_UNSUPPORTED = "tools (function calling) need gpt-oss (harmony) or a Jinja chat template that renders `tools` "
            + "with a known call format (hermes or llama3_json: detected from the template, or set with --tool-call-parser; "
            + "--chat-template gives the server a template); this model's chat template cannot take them";

    /** A parser for one choice's generated tokens; {@code lastPromptToken} seeds detokenization. */
    ChatOutputParser newParser(int lastPromptToken);

    static ChatTemplate forModel(ServedModel model) { return forModel(model, ChatSettings.DEFAULT); }

    /**
     * As {@link #forModel(ServedModel)}, with the {@code --chat-template} and {@code --tool-call-parser} overrides;
     * a combination that cannot work (a Jinja template or a non-harmony format on gpt-oss, harmony elsewhere) is an
     * IllegalArgumentException naming the option.
     */
    static ChatTemplate forModel(ServedModel model, ChatSettings chat) {
        ToolCallFormat format = chat.toolCallFormat();
        Logger log = Logger.getLogger("basalt.server");
        if (model.info().architecture() == Architecture.GPT_OSS) {
            if (format != null && format != ToolCallFormat.HARMONY) {
                throw new IllegalArgumentException("--tool-call-parser " + format.cliName() + ": gpt-oss models write harmony "
                        + "tool calls (use harmony or leave the option out)");
            }
            if (chat.template() != null) {
                throw new IllegalArgumentException("--chat-template " + chat.templateOrigin() + ": gpt-oss models are served "
                        + "with harmony, not a Jinja template");
            }
            return new HarmonyChatTemplate(model.tokenizer());
        }
        if (format == ToolCallFormat.HARMONY) {
            throw new IllegalArgumentException("--tool-call-parser harmony is for gpt-oss models; this model is "
                    + model.info().architecture() + " (choose hermes or llama3_json)");
        }
        if (chat.template() != null) return JinjaChatTemplate.of(chat.template(), model, format);
        try {
            ChatTemplate jinja = JinjaChatTemplate.find(model, format);
            if (jinja != null) return jinja;
        } catch (RuntimeException e) {
            log.warning("the model's chat template cannot be used (" + e.getMessage() + "); falling back to the plain template");
        }
        if (format != null) log.warning("--tool-call-parser " + format.cliName() + " has no effect: the model ships no chat template "
                + "(give one with --chat-template)");
        return new PlainChatTemplate(model);
    }

    /** harmony's efforts; other OpenAI values are refused for gpt-oss. */
    static ReasoningEffort harmonyEffort(String effort) {
        if (effort == null) return ReasoningEffort.MEDIUM;
        return switch (effort) {
            case "low" -> ReasoningEffort.LOW;
            case "medium" -> ReasoningEffort.MEDIUM;
            case "high" -> ReasoningEffort.HIGH;
            default -> throw OpenAiException.invalid("reasoning_effort", "this model supports reasoning_effort low, medium "
                    + "or high, got '" + effort + "'");
        };
    }
}
