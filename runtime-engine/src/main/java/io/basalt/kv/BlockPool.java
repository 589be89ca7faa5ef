package io.basalt.kv;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-block metadata in arrays indexed by block id: reference counts, the LRU free queue, and the prefix
 * cache (key, parent key and token ids of each cached block, plus the key-to-block map). A block is
 * "cached" while the map points to it; it may be in use or free, and is evicted when it is handed out again.
 */
final class BlockPool {
    private final int blockSize;
    private final int[] refCounts;
    private final FreeBlockQueue freeQueue;
    private final boolean[] cached;
    private final long[] blockHashes;
    private final long[] parentHashes;
    private final int[] blockTokens;   // [numBlocks * blockSize]: the ids a cached block was computed for
    private final Map<Long, Integer> cachedBlocks = new HashMap<>();

    BlockPool(int numBlocks, int blockSize) {
        if (numBlocks <= 0 || blockSize <= 0) throw new IllegalArgumentException("numBlocks and blockSize must be positive");
        if ((long) numBlocks * blockSize > Integer.MAX_VALUE) throw new IllegalArgumentException("pool too large for the token array");
        this.blockSize = blockSize;
        this.refCounts = new int[numBlocks];
        this.freeQueue = new FreeBlockQueue(numBlocks);
        this.cached = new boolean[numBlocks];
        this.blockHashes = new long[numBlocks];
        this.parentHashes = new long[numBlocks];
        this.blockTokens = new int[numBlocks * blockSize];
    }

    int numBlocks() {
        return refCounts.length;
    }

    int numFree() {
        return freeQueue.size();
    }

    int numCached() {
        return cachedBlocks.size();
    }

    int refCount(int block) {
        return refCounts[block];
    }

    /** Pops the least recently freed block, evicting it from the prefix cache: its contents will be overwritten. */
    int allocate() {
        int block = freeQueue.popHead();
        if (cached[block]) uncache(block);
        refCounts[block] = 1;
        return block;
    }

    /** One more reference; a free (cached) block leaves the free queue so it cannot be evicted while in use. */
    void touch(int block) {
        if (refCounts[block] == 0) freeQueue.remove(block);
        refCounts[block]++;
    }

    /** One reference less; at 0 the block goes to the free-queue tail, still findable if cached. */
    void release(int block) {
        if (refCounts[block] <= 0) throw new IllegalStateException("block " + block + " released more often than taken");
        if (--refCounts[block] == 0) freeQueue.pushTail(block);
    }

    /**
     * The cached block for this key, or -1. The stored parent key and tokens must match too, so a 64-bit
     * collision cannot hand out another prefix's KV.
     */
    int lookup(long hash, long parentHash, int[] tokens, int from) {
        Integer block = cachedBlocks.get(hash);
        if (block == null || parentHashes[block] != parentHash) return -1;
        return Arrays.equals(blockTokens, block * blockSize, (block + 1) * blockSize, tokens, from, from + blockSize)
                ? block : -1;
    }

    /**
     * Makes a just-computed full block findable. If the key is taken (the same prefix computed twice, or a
     * collision) the block stays uncached: the map holds one block per key and tables are never rewritten.
     */
    void cache(int block, long hash, long parentHash, int[] tokens, int from) {
        if (cached[block] || cachedBlocks.containsKey(hash)) return;
        cachedBlocks.put(hash, block);
        cached[block] = true;
        blockHashes[block] = hash;
        parentHashes[block] = parentHash;
        System.arraycopy(tokens, from, blockTokens, block * blockSize, blockSize);
    }

    /** Drops the block from the prefix cache (if there) because its owner is about to overwrite part of it. */
    void evict(int block) {
        if (cached[block]) uncache(block);
    }

    private void uncache(int block) {
        cachedBlocks.remove(blockHashes[block]);
        cached[block] = false;
    }

    // For invariant checks in tests.

    int[] cachedTokens(int block) {
        return cached[block] ? Arrays.copyOfRange(blockTokens, block * blockSize, (block + 1) * blockSize) : null;
    }

    int[] freeOrder() {
        return freeQueue.toArray();
    }

    boolean isFree(int block) {
        return freeQueue.contains(block);
    }
}
