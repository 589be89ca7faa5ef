package io.basalt.engine.sampling;

/**
 * llama2.c's generator (run.c: xorshift*, 24-bit "coin" in [0, 1)), kept bit-for-bit so a seed
 * produces the same tokens as {@link io.basalt.engine.Sampler} and as llama2.c itself.
 */
final class XorShiftStar {
    private static final long ZERO_REPLACEMENT = 0x2545F4914F6CDD1DL; // xorshift must not start at 0
    private long state;

    XorShiftStar(long seed) {
        this.state = seed == 0 ? ZERO_REPLACEMENT : seed;
    }

    /**
     * The stream of completion {@code choiceIndex} of a request. Choice 0 uses the seed as is (so
     * n = 1 requests match the legacy sampler); the others get a splitmix64-scrambled seed, so the
     * n streams are unrelated yet each is reproducible from (seed, index) alone — whatever the batch.
     */
    static XorShiftStar forChoice(long seed, int choiceIndex) {
        return new XorShiftStar(seedForChoice(seed, choiceIndex));
    }

    /** The seed of choice {@code choiceIndex}'s stream: the request's for choice 0, splitmix64-scrambled for the others. */
    static long seedForChoice(long seed, int choiceIndex) {
        if (choiceIndex == 0) return seed;
        long z = seed + choiceIndex * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    float nextFloat() {
        state ^= state >>> 12;
        state ^= state << 25;
        state ^= state >>> 27;
        int u32 = (int) ((state * 0x2545F4914F6CDD1DL) >>> 32);
        return (u32 >>> 8) / 16777216.0f;
    }
}
