package io.basalt.spi;

/**
 * One sequence's share of a step: the new tokens at positions [startPosition, startPosition +
 * tokenIds.length), and the block table that maps its positions to KV blocks (position p lives in
 * block blockTable[p / blockSize] at offset p % blockSize; SLOTS: one entry, the slot). The KV of
 * positions before startPosition is already in those blocks.
 *
 * @param seqId       the engine's id for the sequence (stable across steps)
 * @param needLogits  whether this step produces the sequence's next token: its logits, or on a backend with
 *                    {@link Capabilities#onDeviceSampling()} the id drawn with {@code sampling} (false for a
 *                    prefill chunk that does not reach the end of the prompt)
 * @param sampling    how to draw that token on the device; backends that return logits ignore it
 */
public record SequenceInput(long seqId, int[] tokenIds, int startPosition, int[] blockTable, boolean needLogits,
                            Sampling sampling) {
    public SequenceInput {
        if (tokenIds.length == 0) throw new IllegalArgumentException("a scheduled sequence needs at least one token");
        if (startPosition < 0) throw new IllegalArgumentException("negative start position");
        java.util.Objects.requireNonNull(sampling, "sampling");
    }

    /** For backends that return logits: greedy sampling parameters, which they never read. */
    public SequenceInput(long seqId, int[] tokenIds, int startPosition, int[] blockTable, boolean needLogits) {
        this(seqId, tokenIds, startPosition, blockTable, needLogits, Sampling.GREEDY);
    }

    public int numTokens() { return tokenIds.length; }

    /**
     * What a graph that samples needs, as scalars it can take per sequence: temperature, then top-k, top-p and
     * min-p truncation, then a draw. Penalties, logit bias, min_tokens and logprobs need per-request state or
     * vocabulary-sized inputs, so the engine refuses them for such backends rather than send them here.
     *
     * @param temperature 0 = greedy (argmax, the lowest id on ties)
     * @param topK        keep the k most likely tokens; 0 = off
     * @param topP        nucleus mass in (0, 1]; 1 = off
     * @param minP        drop tokens below minP × the top probability; 0 = off
     * @param seed        the random stream of this sequence (the request's seed, scrambled per choice for n &gt; 1)
     * @param step        the index of the token being drawn in the sequence's output (0 = the first): with the seed,
     *                    the key of a counter-based generator, so a draw repeated (after preemption) or made in
     *                    another batch gives the same token
     */
    public record Sampling(float temperature, int topK, float topP, float minP, long seed, int step) {
        public static final Sampling GREEDY = new Sampling(0f, 0, 1f, 0f, 0L, 0);

        public Sampling {
            if (!(temperature >= 0f) || topK < 0 || !(topP > 0f && topP <= 1f) || !(minP >= 0f && minP <= 1f) || step < 0) {
                throw new IllegalArgumentException("invalid sampling parameters: " + temperature + ", " + topK + ", " + topP + ", "
                        + minP + ", step " + step);
            }
        }

        public boolean isGreedy() { return temperature == 0f; }
    }
}
