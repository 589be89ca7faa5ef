package io.basalt.kv;

import static io.basalt.kv.KvTestSupport.holds;
import static io.basalt.kv.KvTestSupport.numFree;
import static io.basalt.kv.KvTestSupport.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.kv.KvTestSupport.Snapshot;
import java.util.List;
import org.junit.jupiter.api.Test;

class PagedAllocationTest {
    private static final int BS = 4;

    @Test
    void allocateAndFreeRoundTrip() {
        var m = new PagedKvCacheManager(10, BS, false);
        assertEquals(10, numFree(m));
        assertTrue(m.allocate(1, range(0, 10), 0, 10));
        assertEquals(3, m.blockTable(1).length);
        assertEquals(7, numFree(m));
        assertTrue(holds(m, 1));
        assertEquals(1, m.numLiveSequences());
        assertEquals(new KvStats(0, 0, 3, 0, 10), m.stats());

        m.free(1);
        assertFalse(holds(m, 1));
        assertEquals(0, m.numLiveSequences());
        assertEquals(10, numFree(m));
        for (int b = 0; b < 10; b++) assertEquals(0, m.refCount(b));
        m.free(1);   // unknown ids are ignored
        m.free(42);
        assertEquals(10, numFree(m));
    }

    @Test
    void growingAddsOnlyTheMissingBlocks() {
        var m = new PagedKvCacheManager(10, BS, false);
        int[] t = range(0, 12);
        assertTrue(m.allocate(1, t, 0, 4));
        int[] first = m.blockTable(1);
        assertEquals(1, first.length);
        assertTrue(m.allocate(1, t, 0, 4));
        assertArrayEquals(first, m.blockTable(1));
        m.markComputed(1, t, 4);
        assertTrue(m.allocate(1, t, 4, 5));
        int[] grown = m.blockTable(1);
        assertEquals(2, grown.length);
        assertEquals(first[0], grown[0]);
        assertEquals(8, numFree(m));
    }

    @Test
    void exactFitSucceedsAndOneMoreFails() {
        var m = new PagedKvCacheManager(4, BS, false);
        assertTrue(m.allocate(1, range(0, 16), 0, 16));
        assertEquals(0, numFree(m));
        assertFalse(m.allocate(2, range(0, 1), 0, 1));
        assertFalse(holds(m, 2));
    }

    @Test
    void failedAllocationChangesNothing() {
        var m = new PagedKvCacheManager(5, BS, false);
        int[] t = range(0, 40);
        assertTrue(m.allocate(1, t, 0, 12));
        m.markComputed(1, t, 12);
        Snapshot before = Snapshot.of(m, List.of(1L, 2L));

        assertFalse(m.allocate(2, t, 0, 12), "new sequence needing 3 of 2 free blocks");
        assertEquals(before, Snapshot.of(m, List.of(1L, 2L)));
        assertFalse(holds(m, 2));

        assertFalse(m.allocate(1, t, 12, 24), "known sequence needing 3 more of 2 free blocks");
        assertEquals(before, Snapshot.of(m, List.of(1L, 2L)));
        assertTrue(m.takePendingCopies().isEmpty());
    }

    @Test
    void markComputedIsCheckedAgainstTheTable() {
        var m = new PagedKvCacheManager(4, BS, false);
        int[] t = range(0, 16);
        assertTrue(m.allocate(1, t, 0, 6));
        assertThrows(IllegalArgumentException.class, () -> m.markComputed(1, t, 9));   // only 2 blocks
        assertThrows(IllegalArgumentException.class, () -> m.allocate(1, t, 9, 10));  // computed past the table
        m.markComputed(1, t, 6);
        assertThrows(IllegalArgumentException.class, () -> m.markComputed(7, t, 1));
        assertThrows(IllegalArgumentException.class, () -> m.blockTable(7));
    }

    @Test
    void cachedTokensWithoutPrefixCachingAreRejected() {
        var m = new PagedKvCacheManager(4, BS, false);
        assertThrows(IllegalArgumentException.class, () -> m.allocate(1, range(0, 9), 4, 9));
        assertEquals(4, numFree(m));
        assertFalse(holds(m, 1));
    }
}
