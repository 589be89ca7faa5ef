package io.basalt.kv;

import io.basalt.spi.BlockCopy;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Token builders and a state snapshot for "nothing changed" checks. */
final class KvTestSupport {
    private KvTestSupport() { }

    /** count consecutive token ids starting at first. */
    static int[] range(int first, int count) {
        int[] t = new int[count];
        for (int i = 0; i < count; i++) t[i] = first + i;
        return t;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Blocks an allocation can still take (free, or cached with no reference), as the stats report them. */
    static int numFree(KvCacheManager m) {
        KvStats s = m.stats();
        return s.totalBlocks() - s.usedBlocks();
    }

    /** Whether the manager holds the sequence (an unknown id has no block table). */
    static boolean holds(KvCacheManager m, long seqId) {
        try {
            m.blockTable(seqId);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Everything observable about a paged manager; equal snapshots mean an operation changed nothing. */
    record Snapshot(int numFree, List<Integer> freeOrder, List<Integer> refs, Map<Long, List<Integer>> tables,
                    int numLive, int numCached, List<BlockCopy> pendingCopies, List<Integer> pinned) {
        static Snapshot of(PagedKvCacheManager m, Iterable<Long> ids) {
            Map<Long, List<Integer>> tables = new HashMap<>();
            for (long id : ids) {
                if (holds(m, id)) tables.put(id, Arrays.stream(m.blockTable(id)).boxed().toList());
            }
            Integer[] refs = new Integer[m.numTotalBlocks()];
            for (int b = 0; b < refs.length; b++) refs[b] = m.refCount(b);
            return new Snapshot(KvTestSupport.numFree(m), Arrays.stream(m.freeListOrder()).boxed().toList(), List.of(refs),
                    tables, m.numLiveSequences(), m.stats().cachedBlocks(), m.peekPendingCopies(), m.pinnedBlocks());
        }
    }
}
