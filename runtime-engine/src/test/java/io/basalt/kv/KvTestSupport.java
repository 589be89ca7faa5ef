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

    /** Everything observable about a paged manager; equal snapshots mean an operation changed nothing. */
    record Snapshot(int numFree, List<Integer> freeOrder, List<Integer> refs, Map<Long, List<Integer>> tables,
                    Map<Long, Integer> numComputed, int numCached, List<BlockCopy> pendingCopies, List<Integer> pinned) {
        static Snapshot of(PagedKvCacheManager m, Iterable<Long> ids) {
            Map<Long, List<Integer>> tables = new HashMap<>();
            Map<Long, Integer> computed = new HashMap<>();
            for (long id : ids) {
                if (!m.contains(id)) continue;
                tables.put(id, Arrays.stream(m.blockTable(id)).boxed().toList());
                computed.put(id, m.numComputed(id));
            }
            Integer[] refs = new Integer[m.numTotalBlocks()];
            for (int b = 0; b < refs.length; b++) refs[b] = m.refCount(b);
            return new Snapshot(m.numFreeBlocks(), Arrays.stream(m.freeListOrder()).boxed().toList(), List.of(refs),
                    tables, computed, m.stats().cachedBlocks(), m.peekPendingCopies(), m.pinnedBlocks());
        }
    }
}
