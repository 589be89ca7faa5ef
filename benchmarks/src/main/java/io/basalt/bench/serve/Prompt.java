package io.basalt.bench.serve;

/**
 * One request of a dataset.
 *
 * @param promptTokens the prompt's length by the benchmark's tokenizer, or -1 without one
 * @param outputTokens max_tokens to ask for
 */
public record Prompt(String text, int promptTokens, int outputTokens) {
    public Prompt {
        if (outputTokens < 1) throw new IllegalArgumentException("output length must be >= 1, got " + outputTokens);
    }
}
