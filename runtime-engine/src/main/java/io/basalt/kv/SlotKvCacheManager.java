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
    private final Map<Long, Slot> seqs = new HashMap<>();
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
    @Override public int numFreeBlocks() { return freeSlots.cardinality(); }
    @Override public int numLiveSequences() { return seqs.size(); }
    @Override public boolean contains(long seqId) { return seqs.containsKey(seqId); }
    @Override public int[] blockTable(long seqId) { return new int[] {require(seqId).slot}; }
    @Override public int numComputed(long seqId) { return require(seqId).numComputed; }

    /** Slots are private to their sequence, so nothing is ever cached. */
    @Override
    public int findCachedPrefix(int[] tokens, int numTokens) {
        return 0;
    }

    @Override
    public boolean allocate(long seqId, int[] tokens, int cachedTokens, int numTokens) {
        if (numTokens < 0) throw new IllegalArgumentException("numTokens < 0: " + numTokens);
        boolean known = seqs.containsKey(seqId);
        if (!known && cachedTokens != 0) throw new IllegalArgumentException("slots have no prefix cache: cachedTokens must be 0");
        if (numTokens > slotLength) return false;
        if (known) return true;
        int slot = freeSlots.nextSetBit(0);  // lowest free slot, so slot use is deterministic
        if (slot < 0) return false;
        freeSlots.clear(slot);
        seqs.put(seqId, new Slot(slot));
        return true;
    }

    @Override
    public void markComputed(long seqId, int[] tokens, int numComputed) {
        Slot s = require(seqId);
        if (numComputed < s.numComputed || numComputed > slotLength) {
            throw new IllegalArgumentException("numComputed " + numComputed + " outside [" + s.numComputed + ", " + slotLength + "]");
        }
        s.numComputed = numComputed;
    }

    /** The child gets its own slot with a copy of the parent's KV; the scheduler checks numFreeBlocks first. */
    @Override
    public void fork(long parentId, long childId) {
        Slot parent = require(parentId);
        if (seqs.containsKey(childId)) throw new IllegalArgumentException("sequence " + childId + " already exists");
        int slot = freeSlots.nextSetBit(0);
        if (slot < 0) throw new IllegalStateException("no free slot to fork sequence " + parentId + " into");
        freeSlots.clear(slot);
        Slot child = new Slot(slot);
        child.numComputed = parent.numComputed;
        seqs.put(childId, child);
        pendingCopies.add(new BlockCopy(parent.slot, slot));
    }

    @Override
    public List<BlockCopy> takePendingCopies() {
        List<BlockCopy> copies = List.copyOf(pendingCopies);
        pendingCopies.clear();
        return copies;
    }

    @Override
    public void free(long seqId) {
        Slot s = seqs.remove(seqId);
        if (s == null) return;
        freeSlots.set(s.slot);
        pendingCopies.removeIf(c -> c.target() == s.slot);  // a fork freed before its copy ran needs no copy
    }

    @Override
    public KvStats stats() {
        return new KvStats(0, 0, numSlots - freeSlots.cardinality(), 0, numSlots);
    }

    @Override
    public void resetPrefixCache() {
        // Nothing is cached.
    }

    private Slot require(long seqId) {
        Slot s = seqs.get(seqId);
        if (s == null) throw new IllegalArgumentException("unknown sequence " + seqId);
        return s;
    }

    private static final class Slot {
        final int slot;
        int numComputed;

        Slot(int slot) {
            this.slot = slot;
        }
    }
}
