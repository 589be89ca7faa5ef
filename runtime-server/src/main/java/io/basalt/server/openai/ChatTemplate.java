package io.basalt.server.openai;

import io.basalt.frontend.harmony.ReasoningEffort;
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
     * Only harmony renders tools so far; other templates refuse them.
     */
    default int[] render(List<ChatMessage> messages, String effort, boolean addGenerationPrompt, List<io.basalt.frontend.tools.Tool> tools) {
        if (!tools.isEmpty()) throw OpenAiException.unsupported("tools", TOOLS_UNSUPPORTED);
        return render(messages, effort, addGenerationPrompt);
    }

    /** Whether {@code tools} work with this template (harmony). */
    default boolean supportsTools() { return false; }

    /** A parser for the calls this template's model writes, looking for {@code tools}; templates without tools refuse. */
    default io.basalt.frontend.tools.ToolCallParser newToolParser(List<io.basalt.frontend.tools.Tool> tools,
                                                                  io.basalt.frontend.tools.ToolCallIds ids) {
        throw OpenAiException.unsupported("tools", TOOLS_UNSUPPORTED);
    }

    /**
     * The ids after which this template's model writes {@code tool}'s arguments, in the forms it writes a call header
     * (canonical tokenization): the triggers of the tagged grammar that enforces a {@code strict} tool under tool_choice
     * auto. Empty: this template cannot constrain calls in free output.
     */
    default List<int[]> toolCallTriggers(io.basalt.frontend.tools.Tool tool) { return List.of(); }

    String TOOLS_UNSUPPORTED = "tools (function calling) are supported for harmony (gpt-oss) models so far; this model's chat "
            + "template cannot take them";

    /** A parser for one choice's generated tokens; {@code lastPromptToken} seeds detokenization. */
    ChatOutputParser newParser(int lastPromptToken);

    static ChatTemplate forModel(ServedModel model) {
        if (model.info().architecture() == Architecture.GPT_OSS) return new HarmonyChatTemplate(model.tokenizer());
        try {
            ChatTemplate jinja = JinjaChatTemplate.find(model);
            if (jinja != null) return jinja;
        } catch (RuntimeException e) {
            Logger.getLogger("basalt.server").warning("the model's chat template cannot be used (" + e.getMessage()
                    + "); falling back to the plain template");
        }
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
