package io.basalt.kv;

import io.basalt.spi.BlockCopy;
import java.util.List;

/**
 * KV cache bookkeeping for the scheduler: block ids, reference counts and the prefix cache, as plain
 * integers (no tensors, no device memory). How many of a sequence's tokens have KV is the caller's
 * count ({@code Sequence.numComputed}), passed in where it matters; the manager keeps no copy. Every
 * mutation is check-then-act: {@link #allocate} either succeeds completely or returns {@code false} and
 * changes nothing, so the scheduler can try, and preempt or wait on failure. Confined to the engine
 * thread; not thread-safe.
 */
public interface KvCacheManager {
    /** Positions per block (for slots: the slot length). */
    int blockSize();

    int numTotalBlocks();

    /**
     * Prefix-cache lookup, read-only: the number of leading tokens of {@code tokens[0..numTokens)} whose KV
     * is cached, a multiple of {@link #blockSize()} and at most {@code numTokens - 1}, so that at least one
     * token is computed to produce logits. 0 when prefix caching is off, and always 0 for slots.
     */
    int findCachedPrefix(int[] tokens, int numTokens);

    /**
     * Ensures sequence {@code seqId} (new or already known) has blocks for positions [0, numTokens), of which
     * [0, numComputed) hold valid KV. For a sequence not yet known, {@code numComputed} is the cached prefix to
     * claim (a value {@link #findCachedPrefix} just returned for these tokens, or 0; claimed blocks get ref+1
     * and leave the LRU free list). Positions [numComputed, numTokens) will be written by the next step: any
     * block in that range with ref &gt; 1 is replaced by a fresh block and a {@link BlockCopy}(old, new) is
     * queued (copy-on-write; no copy when the block holds no computed position yet). A block in that range
     * that is ours alone but cached leaves the prefix cache, since cached KV never changes.
     *
     * @return false, with nothing changed, when not enough blocks are available
     * @throws IllegalArgumentException for a new sequence, if {@code numComputed} is not a prefix that is
     *     cached right now
     */
    boolean allocate(long seqId, int[] tokens, int numComputed, int numTokens);

    /**
     * Positions [0, numComputed) of {@code seqId} now hold valid KV (called after each step). Newly full
     * blocks get their chained hash and enter the prefix cache, unless a block with the same hash is already
     * cached: then both are kept (block tables are append-only, as in vLLM).
     */
    void markComputed(long seqId, int[] tokens, int numComputed);

    /** For n &gt; 1: {@code childId} gets {@code parentId}'s blocks (shared, copied before either writes). */
    void fork(long parentId, long childId);

    /** A copy of the sequence's block table; an unknown id is an {@link IllegalArgumentException}. */
    int[] blockTable(long seqId);

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

    KvStats stats();
}
