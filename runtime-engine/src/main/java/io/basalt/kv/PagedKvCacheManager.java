package io.basalt.kv;

import io.basalt.spi.BlockCopy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Paged KV bookkeeping after vLLM v1's BlockPool and nano-vllm's BlockManager: fixed-size blocks handed out
 * through per-sequence block tables, reference counts for sharing (prefix hits and forks), copy-on-write
 * before a shared block is written, and an LRU prefix cache of full blocks keyed by chained hashes.
 */
public final class PagedKvCacheManager implements KvCacheManager {
    private final int blockSize;
    private final boolean enablePrefixCaching;
    private final BlockHasher hasher;
    private final BlockPool pool;
    private final Map<Long, Seq> seqs = new HashMap<>();
    private final List<BlockCopy> pendingCopies = new ArrayList<>();
    private final List<Integer> pinnedSources = new ArrayList<>();  // freed copy sources held until copied
    private long prefixQueries;
    private long prefixHits;

    public PagedKvCacheManager(int numBlocks, int blockSize, boolean enablePrefixCaching) {
        this(numBlocks, blockSize, enablePrefixCaching, BlockHasher.CHAINED);
    }

    /** Tests pass a weak hasher to force collisions. */
    PagedKvCacheManager(int numBlocks, int blockSize, boolean enablePrefixCaching, BlockHasher hasher) {
        this.pool = new BlockPool(numBlocks, blockSize);
        this.blockSize = blockSize;
        this.enablePrefixCaching = enablePrefixCaching;
        this.hasher = Objects.requireNonNull(hasher);
    }

    @Override public int blockSize() { return blockSize; }
    @Override public int numTotalBlocks() { return pool.numBlocks(); }
    @Override public int numLiveSequences() { return seqs.size(); }
    @Override public int[] blockTable(long seqId) { return require(seqId).table(); }

    @Override
    public int findCachedPrefix(int[] tokens, int numTokens) {
        checkTokens(tokens, numTokens);
        if (!enablePrefixCaching || numTokens <= 1) return 0;
        // The last token is never served from the cache: its logits are needed (vLLM caps at numTokens - 1).
        return matchPrefix(tokens, (numTokens - 1) / blockSize).blocks.length * blockSize;
    }

    @Override
    public boolean allocate(long seqId, int[] tokens, int numComputed, int numTokens) {
        if (numTokens < 0) throw new IllegalArgumentException("numTokens < 0: " + numTokens);
        Seq seq = seqs.get(seqId);
        return seq == null ? admit(seqId, tokens, numComputed, numTokens) : grow(seq, numComputed, numTokens);
    }

    private boolean admit(long seqId, int[] tokens, int cachedTokens, int numTokens) {
        if (cachedTokens != 0) {
            checkTokens(tokens, cachedTokens);
            if (!enablePrefixCaching || cachedTokens < 0 || cachedTokens % blockSize != 0 || cachedTokens >= numTokens) {
                throw new IllegalArgumentException("cachedTokens " + cachedTokens + " is not a cached prefix of " + numTokens + " tokens");
            }
        }
        Prefix hit = matchPrefix(tokens, cachedTokens / blockSize);
        if (hit.blocks.length * blockSize != cachedTokens) {
            throw new IllegalArgumentException("only " + hit.blocks.length * blockSize + " of " + cachedTokens
                    + " cached tokens are still cached; call findCachedPrefix right before allocate");
        }
        int numFresh = ceilDiv(numTokens, blockSize) - hit.blocks.length;
        int numRevived = 0;  // hits sitting on the free list: claiming them shrinks what is left to hand out
        for (int b : hit.blocks) if (pool.refCount(b) == 0) numRevived++;
        if (numFresh + numRevived > pool.numFree()) return false;

        // Claim the hits before popping fresh blocks, or a pop could evict a block we are about to use.
        Seq seq = new Seq(hit.lastHash);
        for (int b : hit.blocks) {
            pool.touch(b);
            seq.add(b);
        }
        seq.numHashedBlocks = hit.blocks.length;
        for (int i = 0; i < numFresh; i++) seq.add(pool.allocate());
        seqs.put(seqId, seq);
        if (enablePrefixCaching) {
            prefixQueries += numTokens;   // counted here, not in findCachedPrefix, so retried admissions count once
            prefixHits += cachedTokens;
        }
        return true;
    }

    private boolean grow(Seq seq, int numComputed, int numTokens) {
        if (numComputed < 0 || numComputed > seq.size * blockSize) {
            throw new IllegalArgumentException("numComputed " + numComputed + " outside [0, " + seq.size * blockSize + "]");
        }
        int numNew = Math.max(0, ceilDiv(numTokens, blockSize) - seq.size);
        // Blocks already in the table that the next step writes into: [numComputed, numTokens).
        int firstWritten = numComputed / blockSize;
        int endWritten = numTokens <= numComputed ? firstWritten : Math.min(seq.size, ceilDiv(numTokens, blockSize));
        int numShared = 0;
        for (int i = firstWritten; i < endWritten; i++) if (pool.refCount(seq.blocks[i]) > 1) numShared++;
        if (numNew + numShared > pool.numFree()) return false;

        for (int i = firstWritten; i < endWritten; i++) {
            int old = seq.blocks[i];
            if (pool.refCount(old) <= 1) {
                // Ours alone, but perhaps cached with a sibling's tokens (it filled the block after a fork,
                // then finished): cached KV must stay immutable, so the entry goes before we overwrite it.
                pool.evict(old);
                continue;
            }
            int fresh = pool.allocate();
            // A block that starts at or past numComputed holds no valid KV yet: nothing to copy.
            if (i * blockSize < numComputed) pendingCopies.add(new BlockCopy(old, fresh));
            pool.release(old);  // ref was > 1, so it stays in use by the other sequence
            seq.blocks[i] = fresh;
        }
        for (int i = 0; i < numNew; i++) seq.add(pool.allocate());
        return true;
    }

    @Override
    public void markComputed(long seqId, int[] tokens, int numComputed) {
        Seq seq = require(seqId);
        if (numComputed < 0 || numComputed > seq.size * blockSize) {
            throw new IllegalArgumentException("numComputed " + numComputed + " outside [0, " + seq.size * blockSize
                    + "] for sequence " + seqId);
        }
        if (!enablePrefixCaching) return;
        checkTokens(tokens, numComputed);
        // Hash each newly full block once, chaining on the previous block's key kept on the sequence.
        for (int i = seq.numHashedBlocks; i < numComputed / blockSize; i++) {
            long hash = hasher.hash(seq.lastHash, tokens, i * blockSize, blockSize);
            pool.cache(seq.blocks[i], hash, seq.lastHash, tokens, i * blockSize);
            seq.lastHash = hash;
            seq.numHashedBlocks = i + 1;
        }
    }

    @Override
    public void fork(long parentId, long childId) {
        Seq parent = require(parentId);
        if (seqs.containsKey(childId)) throw new IllegalArgumentException("sequence " + childId + " already exists");
        Seq child = parent.copy();
        for (int i = 0; i < child.size; i++) pool.touch(child.blocks[i]);
        seqs.put(childId, child);
    }

    @Override
    public List<BlockCopy> takePendingCopies() {
        List<BlockCopy> copies = List.copyOf(pendingCopies);
        pendingCopies.clear();
        // The runner applies these before anything else can write to the sources: they may be reused now.
        for (int b : pinnedSources) pool.release(b);
        pinnedSources.clear();
        return copies;
    }

    @Override
    public void free(long seqId) {
        Seq seq = seqs.remove(seqId);
        if (seq == null) return;
        // Reverse order: the tail blocks hash the most context, are least reusable, and so are evicted first.
        for (int i = seq.size - 1; i >= 0; i--) pool.release(seq.blocks[i]);
        if (pendingCopies.isEmpty()) return;
        // A copy into a block that is free again (preempted right after allocate) must not reach the runner.
        pendingCopies.removeIf(c -> pool.refCount(c.target()) == 0);
        // A copy *from* a block freed here still has to run: pin the source so that it is not handed out,
        // and perhaps made the target of another copy in the same batch, before the runner has read it.
        for (BlockCopy c : pendingCopies) {
            if (pool.refCount(c.source()) == 0) {
                pool.touch(c.source());
                pinnedSources.add(c.source());
            }
        }
    }

    @Override
    public KvStats stats() {
        return new KvStats(prefixQueries, prefixHits, pool.numBlocks() - pool.numFree(), pool.numCached(), pool.numBlocks());
    }

    /** The longest run of cached leading blocks, at most maxBlocks long. */
    private Prefix matchPrefix(int[] tokens, int maxBlocks) {
        int[] blocks = new int[maxBlocks];
        long parent = BlockHasher.ROOT;
        int n = 0;
        for (; n < maxBlocks; n++) {
            long hash = hasher.hash(parent, tokens, n * blockSize, blockSize);
            int block = pool.lookup(hash, parent, tokens, n * blockSize);
            if (block < 0) break;
            blocks[n] = block;
            parent = hash;
        }
        return new Prefix(Arrays.copyOf(blocks, n), parent);
    }

    private record Prefix(int[] blocks, long lastHash) { }

    private Seq require(long seqId) {
        Seq seq = seqs.get(seqId);
        if (seq == null) throw new IllegalArgumentException("unknown sequence " + seqId);
        return seq;
    }

    private static void checkTokens(int[] tokens, int numTokens) {
        if (numTokens < 0 || tokens.length < numTokens) {
            throw new IllegalArgumentException("need " + numTokens + " tokens, got " + tokens.length);
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    // Package-private views for invariant checks in tests.
    int refCount(int block) { return pool.refCount(block); }
    int[] freeListOrder() { return pool.freeOrder(); }
    boolean isOnFreeList(int block) { return pool.isFree(block); }
    int[] cachedTokens(int block) { return pool.cachedTokens(block); }
    List<Integer> pinnedBlocks() { return List.copyOf(pinnedSources); }
    List<BlockCopy> peekPendingCopies() { return List.copyOf(pendingCopies); }

    /** A sequence's block table (append-only, except for copy-on-write) and its prefix-cache chain. */
    private static final class Seq {
        int[] blocks = new int[4];
        int size;
        int numHashedBlocks;   // leading full blocks whose key is known (cached, or a duplicate left uncached)
        long lastHash;         // key of block numHashedBlocks - 1, or the chain root

        Seq(long lastHash) {
            this.lastHash = lastHash;
        }

        void add(int block) {
            if (size == blocks.length) blocks = Arrays.copyOf(blocks, size * 2);
            blocks[size++] = block;
        }

        int[] table() {
            return Arrays.copyOf(blocks, size);
        }

        Seq copy() {
            Seq c = new Seq(lastHash);
            c.blocks = blocks.clone();
            c.size = size;
            c.numHashedBlocks = numHashedBlocks;
            return c;
        }
    }
}
