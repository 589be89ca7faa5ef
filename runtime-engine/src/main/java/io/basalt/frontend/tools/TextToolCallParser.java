package io.basalt.frontend.tools;

import java.util.List;

/**
 * A parser that reads a completion's decoded text rather than its ids (chat-template formats such as Hermes
 * {@code <tool_call>} tags or Llama-3 JSON, and the JSON a constrained {@code tool_choice} produces): the ids of a delta
 * are ignored, its text is what counts. Feeding ids alone is a programming error.
 */
public abstract class TextToolCallParser implements ToolCallParser {
    /** Feeds the next piece of decoded text; returns the events it completes. */
    public abstract List<ToolCallEvent> acceptText(String text);

    @Override
    public final List<ToolCallEvent> accept(int[] tokenIds, String text) { return acceptText(text); }

    @Override
    public final List<ToolCallEvent> accept(int tokenId) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " reads text: use accept(int[], String)");
    }
}
