package io.basalt.server.openai;

/**
 * Splits one choice's generated tokens into reasoning and user-visible content, incrementally: the
 * same parser serves streamed chunks and whole responses. Not thread-safe (one per choice).
 */
public interface ChatOutputParser {
    /** What a piece of output adds. */
    record Delta(String reasoning, String content) {
        public static final Delta EMPTY = new Delta("", "");

        public boolean isEmpty() { return reasoning.isEmpty() && content.isEmpty(); }
    }

    /**
     * @param tokenIds new generated ids
     * @param text     the engine's text for them (stop strings already applied), which templates
     *                 without channels pass through
     */
    Delta accept(int[] tokenIds, String text);

    /** The choice ended: anything held back. */
    Delta finish();

    /** Generated tokens that were reasoning (usage.completion_tokens_details.reasoning_tokens), or -1 if no such notion. */
    int reasoningTokens();

    /** All content, no reasoning: the engine's text as is. */
    static ChatOutputParser passthrough() {
        return new ChatOutputParser() {
            @Override public Delta accept(int[] tokenIds, String text) { return text.isEmpty() ? Delta.EMPTY : new Delta("", text); }
            @Override public Delta finish() { return Delta.EMPTY; }
            @Override public int reasoningTokens() { return -1; }
        };
    }
}
