package io.basalt.backend.cpu.model;

import io.basalt.backend.FlatBatch;
import io.basalt.model.DType;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.ModelSpec;
import java.util.List;

/**
 * A loaded model: immutable weights plus the forward pass. Per-sequence state lives in the
 * {@link KvStore} passed in, so one model serves any number of sequences.
 */
public interface Model extends AutoCloseable {
    /** Which logits a single-sequence forward returns. */
    enum Logits { ALL, LAST, NONE }

    /** Receives the residual stream after each block (for parity checks); NONE ignores it. */
    interface ResidualObserver {
        ResidualObserver NONE = (layer, row, residual) -> { };

        /** {@code row} counts the batch's tokens in sequence order (the token index for one sequence). */
        void afterBlock(int layer, int row, float[] residual);
    }

    /** The CPU keeps keys and values as fp32. */
    DType KV_DTYPE = DType.F32;

    ModelInfo info();

    /** What the engine needs to know, the KV cost at {@link #KV_DTYPE}. */
    default ModelSpec spec() { return info().spec(KV_DTYPE); }

    /** A contiguous cache for one sequence (the single-sequence path). */
    default KvCache newCache() { return new KvCache(info().numLayers(), info().kv().kvDim(), info().maxPositions()); }

    /**
     * One batched forward over a step's rows: the matrix products run over all of them at once (each weight is read
     * once per step), each row's key and value go to its slot of {@code kv}, attention reads each sequence's keys
     * through its block table. Returns, per sequence, the logits of its rows among {@code batch.logitRows()}.
     */
    List<float[][]> forward(FlatBatch batch, KvStore kv, ResidualObserver observer);

    /**
     * Single-sequence convenience: runs tokens at positions [cache.length(), cache.length() +
     * tokens.length), appending to the cache; returns logits per token (ALL), the last (LAST) or none.
     */
    default float[][] forward(KvCache cache, int[] tokens, Logits logits, ResidualObserver observer) {
        int start = cache.length();
        cache.ensureCapacity(start + tokens.length);
        FlatBatch batch = FlatBatch.ofSequence(tokens, start, new int[] {0}, cache.maxPositions(), spec());
        batch = switch (logits) {
            case LAST -> batch;
            case ALL -> batch.withLogitRows(java.util.stream.IntStream.range(0, tokens.length).toArray());
            case NONE -> batch.withLogitRows(new int[0]);
        };
        float[][] out = forward(batch, cache, observer).get(0);
        cache.setLength(start + tokens.length);
        return out;
    }

    default float[][] forward(KvCache cache, int[] tokens, Logits logits) {
        return forward(cache, tokens, logits, ResidualObserver.NONE);
    }

    @Override
    void close();
}
