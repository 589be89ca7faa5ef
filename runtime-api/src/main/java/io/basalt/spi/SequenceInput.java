package io.basalt.spi;

/**
 * One sequence's share of a step: the new tokens at positions [startPosition, startPosition +
 * tokenIds.length), and the block table that maps its positions to KV blocks (position p lives in
 * block blockTable[p / blockSize] at offset p % blockSize; SLOTS: one entry, the slot). The KV of
 * positions before startPosition is already in those blocks.
 *
 * @param seqId       the engine's id for the sequence (stable across steps)
 * @param needLogits  whether this step must return logits for the last new token (false for a
 *                    prefill chunk that does not reach the end of the prompt)
 */
public record SequenceInput(long seqId, int[] tokenIds, int startPosition, int[] blockTable, boolean needLogits) {
    public SequenceInput {
        if (tokenIds.length == 0) throw new IllegalArgumentException("a scheduled sequence needs at least one token");
        if (startPosition < 0) throw new IllegalArgumentException("negative start position");
    }

    public int numTokens() { return tokenIds.length; }
}
