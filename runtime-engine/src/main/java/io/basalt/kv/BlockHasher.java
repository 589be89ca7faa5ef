package io.basalt.kv;

/**
 * The prefix-cache key of one full block: a hash of the parent block's key and the block's token ids, so a
 * key identifies the whole prefix up to and including the block. A hit is still confirmed by comparing
 * tokens (see {@link BlockPool#lookup}); tests replace the function to force collisions.
 */
@FunctionalInterface
interface BlockHasher {
    long hash(long parentHash, int[] tokens, int from, int count);

    /**
     * Murmur3-style 64-bit body and finalizer: every token goes through a multiply-rotate-multiply before it
     * is folded in, and the final avalanche spreads the last tokens over all bits (the map keys on all 64).
     * Not cryptographic: multi-tenant isolation would use a salt in {@link #root} or sha256, as vLLM does.
     */
    BlockHasher CHAINED = (parentHash, tokens, from, count) -> {
        long h = parentHash;
        for (int i = from; i < from + count; i++) {
            long k = (tokens[i] & 0xFFFFFFFFL) * 0x87C37B91114253D5L;
            k = Long.rotateLeft(k, 31) * 0x4CF5AD432745937FL;
            h ^= k;
            h = Long.rotateLeft(h, 27) * 5 + 0x52DCE729L;
        }
        return fmix64(h ^ count);
    };

    /** The parent key of a sequence's first block (a per-request cache salt would be mixed in here). */
    long ROOT = fmix64(0x9E3779B97F4A7C15L);

    private static long fmix64(long h) {
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        return h ^ (h >>> 33);
    }
}
