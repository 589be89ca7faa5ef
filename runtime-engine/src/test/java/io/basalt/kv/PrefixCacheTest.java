package io.basalt.kv;

import static io.basalt.kv.KvTestSupport.concat;
import static io.basalt.kv.KvTestSupport.numFree;
import static io.basalt.kv.KvTestSupport.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.kv.KvTestSupport.Snapshot;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrefixCacheTest {
    private static final int BS = 4;
    private static final int[] A = range(100, 10 * BS);                          // 10 full blocks
    private static final int[] B = concat(Arrays.copyOf(A, 8 * BS), range(900, 2 * BS)); // same first 8 blocks

    private static PagedKvCacheManager computed(PagedKvCacheManager m, long id, int[] tokens) {
        assertTrue(m.allocate(id, tokens, m.findCachedPrefix(tokens, tokens.length), tokens.length));
        m.markComputed(id, tokens, tokens.length);
        return m;
    }

    @Test
    void freedPrefixIsClaimedByTheNextSequence() {
        var m = computed(new PagedKvCacheManager(32, BS, true), 1, A);
        int[] aBlocks = m.blockTable(1);
        m.free(1);
        assertEquals(32, numFree(m));

        int cached = m.findCachedPrefix(B, B.length);
        assertEquals(8 * BS, cached);
        assertTrue(m.allocate(2, B, cached, B.length));
        int[] bBlocks = m.blockTable(2);
        assertArrayEquals(Arrays.copyOf(aBlocks, 8), Arrays.copyOf(bBlocks, 8));
        for (int i = 0; i < 8; i++) {
            assertEquals(1, m.refCount(bBlocks[i]));
            assertFalse(m.isOnFreeList(bBlocks[i]));
        }
        assertEquals(32 - 10, numFree(m));
        assertEquals(new KvStats(A.length + B.length, cached, 10, 10, 32), m.stats());
    }

    @Test
    void runningSequenceSharesItsPrefix() {
        var m = computed(new PagedKvCacheManager(32, BS, true), 1, A);
        int cached = m.findCachedPrefix(B, B.length);
        assertEquals(8 * BS, cached);
        assertTrue(m.allocate(2, B, cached, B.length));
        int[] a = m.blockTable(1);
        int[] b = m.blockTable(2);
        for (int i = 0; i < 8; i++) {
            assertEquals(a[i], b[i]);
            assertEquals(2, m.refCount(a[i]));
        }
        assertEquals(1, m.refCount(a[8]));
        assertEquals(32 - 12, numFree(m));
        m.free(1);
        for (int i = 0; i < 8; i++) assertEquals(1, m.refCount(b[i]), "shared blocks survive the first free");
        m.free(2);
        assertEquals(32, numFree(m));
    }

    @Test
    void theLastTokenIsNeverServedFromTheCache() {
        var m = computed(new PagedKvCacheManager(8, BS, true), 1, range(0, 4 * BS));
        assertEquals(3 * BS, m.findCachedPrefix(range(0, 4 * BS), 4 * BS), "exactly 4 cached blocks: 3 reused");
        assertEquals(4 * BS, m.findCachedPrefix(range(0, 4 * BS + 1), 4 * BS + 1));
        assertEquals(0, m.findCachedPrefix(range(0, 1), 1));
        assertThrows(IllegalArgumentException.class, () -> m.allocate(2, range(0, 16), 16, 16));
    }

    @Test
    void onlyFullComputedBlocksAreCached() {
        var m = new PagedKvCacheManager(8, BS, true);
        int[] t = range(0, 3 * BS);
        assertTrue(m.allocate(1, t, 0, t.length));
        assertEquals(0, m.findCachedPrefix(t, t.length), "allocated but not computed");
        m.markComputed(1, t, BS + 2);
        assertEquals(BS, m.findCachedPrefix(t, t.length), "the half-computed block stays out");
        m.markComputed(1, t, 3 * BS);
        assertEquals(2 * BS, m.findCachedPrefix(t, t.length));
        assertEquals(3 * BS, m.findCachedPrefix(range(0, 3 * BS + 1), 3 * BS + 1));
    }

    @Test
    void disabledCacheFindsNothing() {
        var m = computed(new PagedKvCacheManager(16, BS, false), 1, A);
        m.free(1);
        assertEquals(0, m.findCachedPrefix(A, A.length));
        assertEquals(new KvStats(0, 0, 0, 0, 16), m.stats());
    }

    @Test
    void duplicateComputationKeepsBothAndCachesTheFirst() {
        var m = new PagedKvCacheManager(16, BS, true);
        int[] t = range(0, 2 * BS);
        assertTrue(m.allocate(1, t, 0, t.length));
        assertTrue(m.allocate(2, t, 0, t.length));       // admitted before 1 finished: no hit
        m.markComputed(1, t, t.length);
        m.markComputed(2, t, t.length);
        int[] first = m.blockTable(1);
        int[] second = m.blockTable(2);
        assertNull(m.cachedTokens(second[0]), "the duplicate stays uncached");
        assertArrayEquals(range(0, BS), m.cachedTokens(first[0]));
        assertArrayEquals(second, m.blockTable(2), "append-only: the duplicate is not swapped");
        m.free(2);
        m.free(1);
        assertTrue(m.allocate(3, t, BS, t.length));
        assertEquals(first[0], m.blockTable(3)[0]);
    }

    @Test
    void staleCachedPrefixIsRejectedWithoutChanges() {
        var m = computed(new PagedKvCacheManager(2, BS, true), 1, range(0, 2 * BS));
        m.free(1);
        int[] t = range(0, 2 * BS + 1);
        int cached = m.findCachedPrefix(t, t.length);
        assertEquals(2 * BS, cached);
        assertTrue(m.allocate(2, range(500, 1), 0, 1));    // evicts the tail block of the prefix
        Snapshot before = Snapshot.of(m, List.of(2L, 3L));
        assertThrows(IllegalArgumentException.class, () -> m.allocate(3, t, cached, t.length));
        assertEquals(before, Snapshot.of(m, List.of(2L, 3L)));
    }

    @Test
    void failedAdmissionDoesNotClaimItsHits() {
        var m = computed(new PagedKvCacheManager(4, BS, true), 1, range(0, 2 * BS));
        m.free(1);
        assertTrue(m.allocate(2, range(500, 1), 0, 1));   // 3 free, 2 of them cached
        int[] t = range(0, 4 * BS);
        int cached = m.findCachedPrefix(t, t.length);
        assertEquals(2 * BS, cached);
        Snapshot before = Snapshot.of(m, List.of(2L, 3L));
        assertFalse(m.allocate(3, t, cached, t.length), "2 revived + 2 fresh > 3 free");
        assertEquals(before, Snapshot.of(m, List.of(2L, 3L)));
    }

    @Test
    void hitsAreClaimedBeforeFreshBlocksArePopped() {
        var m = computed(new PagedKvCacheManager(5, BS, true), 1, range(0, 2 * BS));   // blocks 0, 1
        m.free(1);
        assertTrue(m.allocate(2, range(500, 3 * BS), 0, 3 * BS));                       // blocks 2, 3, 4
        m.free(2);
        assertArrayEquals(new int[] {1, 0, 4, 3, 2}, m.freeListOrder(), "the hits are next in line for eviction");
        int[] t = range(0, 2 * BS + 1);
        assertTrue(m.allocate(3, t, m.findCachedPrefix(t, t.length), t.length));
        assertArrayEquals(new int[] {0, 1, 4}, m.blockTable(3));
        for (int b : m.blockTable(3)) assertEquals(1, m.refCount(b));
        assertArrayEquals(new int[] {3, 2}, m.freeListOrder());
    }

    @Test
    void hashCollisionsNeverProduceAFalseHit() {
        // Every block gets the same key: only the stored tokens and parent key can tell them apart.
        var m = new PagedKvCacheManager(16, BS, true, (parent, tokens, from, count) -> 42L);
        int[] a = range(1, BS + 1);
        computed(m, 1, a);
        m.free(1);
        int[] b = range(50, BS + 1);
        assertEquals(0, m.findCachedPrefix(b, b.length), "same key, other tokens");
        computed(m, 2, b);                                 // the key is taken: b's block stays uncached
        assertEquals(BS, m.findCachedPrefix(a, a.length), "a's entry was not overwritten");
        m.free(2);

        // Same tokens at another position: the key and tokens match block 0, the parent key does not.
        int[] twice = concat(concat(range(1, BS), range(1, BS)), range(7, 1));
        assertEquals(BS, m.findCachedPrefix(twice, twice.length));
    }
}
