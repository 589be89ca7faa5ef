package io.basalt.server.openai;

import io.basalt.frontend.ModelTokenizer;
import io.basalt.server.ChatSettings;
import io.basalt.server.ServedModel;
import io.basalt.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.logging.Logger;

/**
 * What the OpenAI layer needs to know about the served model, computed once at server start: its
 * names, the ids clients may send, the context length, the chat template, and a cheap upper bound
 * that refuses absurdly long prompts before tokenizing them.
 */
public final class OpenAiModel {
    private static final Logger LOG = Logger.getLogger("basalt.server");

    private final ServedModel model;
    private final int vocab;
    private final ChatTemplate chatTemplate;
    private final long maxPromptBytes;

    public OpenAiModel(ServedModel model) { this(model, ChatSettings.DEFAULT); }

    /** @param chat the {@code --chat-template} / {@code --tool-call-parser} overrides */
    public OpenAiModel(ServedModel model, ChatSettings chat) {
        this.model = model;
        this.vocab = Math.min(model.tokenizer().vocabSize(), model.info().vocabSize());
        this.chatTemplate = ChatTemplate.forModel(model, chat);
        // Every token covers at most maxTokenBytes bytes of text (at least 4: a byte-fallback or unknown
        // token stands for part of one UTF-8 character), so a text with more than context × that many
        // bytes has more tokens than the context. ×4 of slack for normalizers that shrink text.
        this.maxPromptBytes = 4L * model.contextLength() * Math.max(4, maxTokenBytes(model.tokenizer()));
        LOG.fine(() -> "chat template for " + model.id() + ": " + chatTemplate.name());
    }

    public ServedModel served() { return model; }

    public Tokenizer tokenizer() { return model.tokenizer(); }

    /** Token ids clients may send (prompts, logit_bias, stop_token_ids, detokenize) lie in [0, vocab). */
    public int vocab() { return vocab; }

    public int contextLength() { return model.contextLength(); }

    public ChatTemplate chatTemplate() { return chatTemplate; }

    public List<String> names() { return model.names(); }

    /** The model name to echo in responses: the one the client asked for, or the canonical id. */
    public String resolve(String requested) {
        if (requested == null) return model.id();
        if (!model.answersTo(requested)) throw OpenAiException.modelNotFound(JsonFields.clip(requested));
        return requested;
    }

    /** Text → prompt ids (BOS rules of {@link ServedModel#encodePrompt}), refused when it cannot fit. */
    public int[] encodePrompt(String text, String param) {
        checkTextSize(utf8Length(text), param);
        int[] ids;
        try {
            ids = model.encodePrompt(text);
        } catch (IllegalArgumentException e) {
            throw OpenAiException.invalid(param, e.getMessage());
        }
        checkFits(ids.length, param);
        return ids;
    }

    /** Text → ids as the tokenizer makes them, BOS rules included, for /tokenize: not checked against the model. */
    public int[] tokenizePrompt(String text, String param) {
        checkTextSize(utf8Length(text), param);
        try {
            return ModelTokenizer.tokenizePrompt(model.info(), model.tokenizer(), text);
        } catch (IllegalArgumentException e) {
            throw OpenAiException.invalid(param, e.getMessage());
        }
    }

    /** Ids from the tokenizer that the model has no embedding for: a 400 saying the two disagree. */
    public void checkInVocabulary(int[] ids, String param) {
        try {
            ModelTokenizer.checkInVocabulary(model.info(), model.tokenizer(), ids);
        } catch (IllegalArgumentException e) {
            throw OpenAiException.invalid(param, e.getMessage());
        }
    }

    /** Refuses text that certainly has more tokens than the context, without tokenizing it. */
    public void checkTextSize(long utf8Bytes, String param) {
        if (utf8Bytes > maxPromptBytes) {
            throw OpenAiException.invalid(param, "The prompt is far longer than this model's maximum context length of "
                    + contextLength() + " tokens (" + utf8Bytes + " bytes of text)");
        }
    }

    /** A prompt must leave room for at least one generated token; it is never truncated. */
    public void checkFits(int promptTokens, String param) {
        if (promptTokens == 0) throw OpenAiException.invalid(param, "The prompt is empty");
        if (promptTokens >= contextLength()) {
            throw OpenAiException.invalid(param, "This model's maximum context length is " + contextLength()
                    + " tokens, but the prompt has " + promptTokens + " tokens (at least one token must remain for the completion)");
        }
    }

    /**
     * Chat messages → prompt ids through the model's template (not checked against the context or
     * the vocabulary: callers that generate also call {@link #checkFits} and {@link #checkInVocabulary}).
     */
    public int[] renderChat(List<ChatMessage> messages, String effort, boolean addGenerationPrompt) {
        return renderChat(messages, effort, addGenerationPrompt, List.of());
    }

    /** As {@link #renderChat(List, String, boolean)}, declaring {@code tools} (a 400 when the template cannot take them). */
    public int[] renderChat(List<ChatMessage> messages, String effort, boolean addGenerationPrompt,
                            List<io.basalt.frontend.tools.Tool> tools) {
        if (!tools.isEmpty() && !chatTemplate.supportsTools()) throw OpenAiException.unsupported("tools", ChatTemplate.TOOLS_UNSUPPORTED);
        long bytes = 0;
        for (ChatMessage m : messages) {
            bytes += utf8Length(m.content()) + (m.reasoningContent() == null ? 0 : utf8Length(m.reasoningContent()));
            for (io.basalt.frontend.tools.ToolCall c : m.toolCalls()) bytes += utf8Length(c.argumentsJson());
        }
        checkTextSize(bytes, "messages");
        try {
            return chatTemplate.render(messages, effort, addGenerationPrompt, tools);
        } catch (IllegalArgumentException e) {
            throw OpenAiException.invalid("messages", e.getMessage());
        }
    }

    public static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c)) { n += 4; i++; }
            else n += 3;
        }
        return n;
    }

    private static int maxTokenBytes(Tokenizer t) {
        int max = 1;
        for (int id = 0; id < t.vocabSize(); id++) {
            try {
                max = Math.max(max, t.decodeBytes(-1, id).length);
            } catch (RuntimeException e) {
                // an id the tokenizer cannot decode on its own says nothing about text length
            }
        }
        return max;
    }

    /** Text of one token after {@code previousId} (the bytes it adds, as UTF-8 with U+FFFD for partial characters). */
    String tokenText(int previousId, int id) {
        return new String(tokenBytes(previousId, id), StandardCharsets.UTF_8);
    }

    byte[] tokenBytes(int previousId, int id) {
        try {
            return model.tokenizer().decodeBytes(previousId, id);
        } catch (RuntimeException e) {
            return new byte[0];
        }
    }
}
