package io.basalt.server.openai;

import io.basalt.server.ServedModel;
import java.util.List;

/**
 * The template for models that ship none (base models such as stories260K): one line per message,
 * then the assistant's turn, tokenized like a completion prompt (BOS rules of
 * {@link ServedModel#encodePrompt}):
 * <pre>
 * system: You are terse.
 * user: Hi
 * assistant: Hello.
 * user: Tell me a story
 * assistant:
 * </pre>
 * Developer messages are written as "system"; an assistant's reasoning_content is dropped. Nothing
 * stops a base model from writing the next "user:" line itself: pass {@code stop: ["\nuser:"]} for that.
 */
final class PlainChatTemplate implements ChatTemplate {
    private final ServedModel model;

    PlainChatTemplate(ServedModel model) { this.model = model; }

    @Override public String name() { return "plain"; }

    static String text(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append(m.role().equals("developer") ? "system" : m.role()).append(": ").append(m.content()).append('\n');
        }
        if (addGenerationPrompt) sb.append("assistant:");
        return sb.toString();
    }

    @Override
    public int[] render(List<ChatMessage> messages, String effort, boolean addGenerationPrompt) {
        return model.encodePrompt(text(messages, addGenerationPrompt));
    }

    @Override
    public ChatOutputParser newParser(int lastPromptToken) { return ChatOutputParser.passthrough(); }
}
