package io.basalt.model.arch;

/**
 * A loaded model: immutable weights plus the forward pass. Per-sequence state lives in the
 * {@link KvCache} passed in, so one model serves any number of sequences.
 */
public interface Model extends AutoCloseable {
    /** Which logits a forward call returns. */
    enum Logits { ALL, LAST }

    /** Receives the residual stream after each block (for parity checks); NONE ignores it. */
    interface ResidualObserver {
        ResidualObserver NONE = (layer, token, residual) -> { };

        void afterBlock(int layer, int token, float[] residual);
    }

    ModelInfo info();

    KvCache newCache();

    /**
     * Runs tokens at positions [cache.length(), cache.length() + tokens.length), appending their
     * keys and values to the cache. Returns one logits row per token (ALL) or only the last (LAST).
     */
    float[][] forward(KvCache cache, int[] tokens, Logits logits, ResidualObserver observer);

    default float[][] forward(KvCache cache, int[] tokens, Logits logits) {
        return forward(cache, tokens, logits, ResidualObserver.NONE);
    }

    @Override
    void close();
}
