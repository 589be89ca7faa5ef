package io.basalt.kv;

import io.basalt.spi.BlockCopy;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One contiguous KV region ("slot") per sequence, for backends whose graphs are compiled for a fixed
 * number of sequences of a fixed maximum length (Neuron). A sequence is admitted only into a free slot and
 * keeps it until freed; there is no sharing, so no prefix cache and no copy-on-write. A "block" here is a
 * slot: the block table of a sequence is its single slot id.
 */
public final class SlotKvCacheManager implements KvCacheManager {
    private final int numSlots;
    private final int slotLength;
    private final BitSet freeSlots;
    private final Map<Long, Integer> seqs = new HashMap<>();   // sequence id -> its slot
    private final List<BlockCopy> pendingCopies = new ArrayList<>();

    public SlotKvCacheManager(int numSlots, int slotLength) {
        if (numSlots <= 0 || slotLength <= 0) throw new IllegalArgumentException("numSlots and slotLength must be positive");
        this.numSlots = numSlots;
        this.slotLength = slotLength;
        this.freeSlots = new BitSet(numSlots);
        freeSlots.set(0, numSlots);
    }

    @Override public int blockSize() { return slotLength; }
    @Override public int numTotalBlocks() { return numSlots; }
    @Override public int numLiveSequences() { return seqs.size(); }
    @Override public int[] blockTable(long seqId) { return new int[] {require(seqId)}; }

    /** Slots are private to their sequence, so nothing is ever cached. */
    @Override
    public int findCachedPrefix(int[] tokens, int numTokens) {
        return 0;
    }

    @Override
    public boolean allocate(long seqId, int[] tokens, int numComputed, int numTokens) {
        if (numTokens < 0) throw new IllegalArgumentException("numTokens < 0: " + numTokens);
        boolean known = seqs.containsKey(seqId);
        if (!known && numComputed != 0) throw new IllegalArgumentException("slots have no prefix cache: a new sequence starts at 0");
        if (numTokens > slotLength) return false;
        if (known) return true;
        int slot = freeSlots.nextSetBit(0);  // lowest free slot, so slot use is deterministic
        if (slot < 0) return false;
        freeSlots.clear(slot);
        seqs.put(seqId, slot);
        return true;
    }

    @Override
    public void markComputed(long seqId, int[] tokens, int numComputed) {
        require(seqId);
        if (numComputed < 0 || numComputed > slotLength) {
            throw new IllegalArgumentException("numComputed " + numComputed + " outside [0, " + slotLength + "]");
        }
    }

    /**
     * The child gets its own slot with a copy of the parent's KV. The scheduler admits a request only when
     * max_num_seqs (at most the slot count) has room for all its n choices, so a free slot is there.
     */
    @Override
    public void fork(long parentId, long childId) {
        int parent = require(parentId);
        if (seqs.containsKey(childId)) throw new IllegalArgumentException("sequence " + childId + " already exists");
        int slot = freeSlots.nextSetBit(0);
        if (slot < 0) throw new IllegalStateException("no free slot to fork sequence " + parentId + " into");
        freeSlots.clear(slot);
        seqs.put(childId, slot);
        pendingCopies.add(new BlockCopy(parent, slot));
    }

    @Override
    public List<BlockCopy> takePendingCopies() {
        List<BlockCopy> copies = List.copyOf(pendingCopies);
        pendingCopies.clear();
        return copies;
    }

    @Override
    public void free(long seqId) {
        Integer slot = seqs.remove(seqId);
        if (slot == null) return;
        freeSlots.set(slot);
        pendingCopies.removeIf(c -> c.target() == slot);  // a fork freed before its copy ran needs no copy
    }

    @Override
    public KvStats stats() {
        return new KvStats(0, 0, numSlots - freeSlots.cardinality(), 0, numSlots);
    }

    private int require(long seqId) {
        Integer slot = seqs.get(seqId);
        if (slot == null) throw new IllegalArgumentException("unknown sequence " + seqId);
        return slot;
    }
}
