package io.basalt.kv;

import io.basalt.spi.BlockCopy;
import java.util.List;

/**
 * KV cache bookkeeping for the scheduler: block ids, reference counts and the prefix cache, as plain
 * integers (no tensors, no device memory). Every mutation is check-then-act: {@link #allocate} either
 * succeeds completely or returns {@code false} and changes nothing, so the scheduler can try, and
 * preempt or wait on failure. Confined to the engine thread; not thread-safe.
 */
public interface KvCacheManager {
    /** Positions per block (for slots: the slot length). */
    int blockSize();

    int numTotalBlocks();

    /** Blocks {@link #allocate} can still hand out: free ones plus evictable cached ones (ref 0). */
    int numFreeBlocks();

    /**
     * Prefix-cache lookup, read-only: the number of leading tokens of {@code tokens[0..numTokens)} whose KV
     * is cached, a multiple of {@link #blockSize()} and at most {@code numTokens - 1}, so that at least one
     * token is computed to produce logits. 0 when prefix caching is off, and always 0 for slots.
     */
    int findCachedPrefix(int[] tokens, int numTokens);

    /**
     * Ensures sequence {@code seqId} (new or already known) has blocks for positions [0, numTokens).
     * For a sequence not yet known, first claims the cached prefix of length {@code cachedTokens} (a value
     * {@link #findCachedPrefix} just returned for these tokens; claimed blocks get ref+1 and leave the LRU
     * free list) and records numComputed = cachedTokens; {@code cachedTokens} is ignored for known sequences.
     * Positions [numComputed, numTokens) will be written by the next step: any block in that range with
     * ref &gt; 1 is replaced by a fresh block and a {@link BlockCopy}(old, new) is queued (copy-on-write;
     * no copy when the block holds no computed position yet). A block in that range that is ours alone but
     * cached leaves the prefix cache, since cached KV never changes.
     *
     * @return false, with nothing changed, when not enough blocks are available
     * @throws IllegalArgumentException if {@code cachedTokens} is not a prefix that is cached right now
     */
    boolean allocate(long seqId, int[] tokens, int cachedTokens, int numTokens);

    /**
     * Positions [0, numComputed) of {@code seqId} now hold valid KV (called after each step; numComputed
     * never decreases). Newly full blocks get their chained hash and enter the prefix cache, unless a block
     * with the same hash is already cached: then both are kept (block tables are append-only, as in vLLM).
     */
    void markComputed(long seqId, int[] tokens, int numComputed);

    /** For n &gt; 1: {@code childId} gets a copy of {@code parentId}'s block table and its numComputed. */
    void fork(long parentId, long childId);

    /** A copy of the sequence's block table. */
    int[] blockTable(long seqId);

    int numComputed(long seqId);

    /**
     * Block copies the runner must apply, in list order, before the next step writes any KV; the call drains
     * the list. Order matters: after a fork, one copy's target can be a later copy's source.
     */
    List<BlockCopy> takePendingCopies();

    /**
     * Releases the sequence's blocks (ref-1). Blocks reaching 0 go to the free-list tail in reverse table
     * order, so a sequence's tail blocks are evicted first; cached ones stay findable until evicted.
     * Pending copies into freed blocks are dropped; a freed block that a pending copy still reads from stays
     * held until {@link #takePendingCopies()}. Unknown ids are ignored.
     */
    void free(long seqId);

    int numLiveSequences();

    boolean contains(long seqId);

    KvStats stats();

    /** Drops every cached hash (e.g. after a weight reload); blocks in use are untouched. */
    void resetPrefixCache();
}
