package io.basalt.backend.cpu.model;

/**
 * One sequence's part of a batched forward: tokens at positions [startPosition, startPosition +
 * tokens.length), whose keys and values are written into {@code kv} (earlier positions must already
 * be there), and which logits to return.
 */
public record SequenceChunk(KvView kv, int[] tokens, int startPosition, Model.Logits logits) {
    public SequenceChunk {
        if (tokens.length == 0) throw new IllegalArgumentException("a chunk needs at least one token");
        if (startPosition < 0) throw new IllegalArgumentException("negative start position");
    }
}
