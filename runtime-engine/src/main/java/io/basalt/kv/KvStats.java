package io.basalt.kv;

/**
 * A snapshot of the KV cache for metrics.
 *
 * @param prefixQueries tokens of newly admitted sequences that were looked up in the prefix cache
 * @param prefixHits tokens of those that were found cached
 * @param usedBlocks blocks referenced by at least one live sequence
 * @param cachedBlocks blocks findable in the prefix cache, in use or free
 * @param totalBlocks the pool size
 */
public record KvStats(long prefixQueries, long prefixHits, int usedBlocks, int cachedBlocks, int totalBlocks) {
    /** Fraction of looked-up tokens that were cached; 0 before any lookup. */
    public double prefixHitRate() {
        return prefixQueries == 0 ? 0.0 : (double) prefixHits / prefixQueries;
    }
}
