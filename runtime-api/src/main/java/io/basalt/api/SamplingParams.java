package io.basalt.api;

/**
 * How the next token is chosen. {@code temperature == 0} means greedy (argmax). {@code seed} makes
 * sampled runs reproducible; {@code maxTokens} bounds the number of generated tokens.
 */
public record SamplingParams(float temperature, float topP, long seed, int maxTokens) {
    public SamplingParams {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        if (maxTokens < 0) throw new IllegalArgumentException("max_tokens must be >= 0, got " + maxTokens);
    }

    public static SamplingParams greedy(int maxTokens) { return new SamplingParams(0f, 1f, 0L, maxTokens); }

    public boolean isGreedy() { return temperature == 0f; }
}
