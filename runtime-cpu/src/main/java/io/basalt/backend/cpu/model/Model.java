package io.basalt.backend.cpu.model;

import io.basalt.model.layout.ModelInfo;

/**
 * A loaded model: immutable weights plus the forward pass. Per-sequence state lives in the
 * {@link KvCache} passed in, so one model serves any number of sequences.
 */
public interface Model extends AutoCloseable {
    /** Which logits a forward call returns. */
    enum Logits { ALL, LAST, NONE }

    /** Receives the residual stream after each block (for parity checks); NONE ignores it. */
    interface ResidualObserver {
        ResidualObserver NONE = (layer, row, residual) -> { };

        /** {@code row} counts the batch's tokens in chunk order (the token index for one chunk). */
        void afterBlock(int layer, int row, float[] residual);
    }

    ModelInfo info();

    /** A contiguous cache for one sequence (the single-sequence path). */
    default KvCache newCache() { return new KvCache(info().numLayers(), kvDim(), info().maxPositions()); }

    /** Floats of K plus V per position per layer (sizes a KV pool). */
    int kvDim();

    /**
     * One batched forward over several sequences' chunks: the matrix products run over all their
     * tokens at once (each weight is read once per step), attention runs per sequence through its
     * {@link KvView}. Returns, per chunk, the logits rows it asked for.
     */
    java.util.List<float[][]> forward(java.util.List<SequenceChunk> chunks, ResidualObserver observer);

    /**
     * Single-sequence convenience: runs tokens at positions [cache.length(), cache.length() +
     * tokens.length), appending to the cache; returns logits per token (ALL), the last (LAST) or none.
     */
    default float[][] forward(KvCache cache, int[] tokens, Logits logits, ResidualObserver observer) {
        int start = cache.length();
        cache.ensureCapacity(start + tokens.length);
        float[][] out = forward(java.util.List.of(new SequenceChunk(cache, tokens, start, logits)), observer).get(0);
        cache.setLength(start + tokens.length);
        return out;
    }

    default float[][] forward(KvCache cache, int[] tokens, Logits logits) {
        return forward(cache, tokens, logits, ResidualObserver.NONE);
    }

    @Override
    void close();
}
