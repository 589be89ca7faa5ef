package io.basalt.kv;

import static io.basalt.kv.KvTestSupport.numFree;
import static io.basalt.kv.KvTestSupport.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LruEvictionTest {
    private static final int BS = 4;
    private static final int[] A = range(100, 4 * BS + 1);   // 4 full blocks and one more token
    private static final int[] B = range(200, 4 * BS + 1);
    private PagedKvCacheManager m;
    private long nextId = 10;

    /** Pool of 8 blocks: A takes 0..3 and is freed, then B takes 4..7 and is freed; every block is cached. */
    @BeforeEach
    void fillPoolWithCachedFreedBlocks() {
        m = new PagedKvCacheManager(8, BS, true);
        runAndFree(1, A);
        assertArrayEquals(new int[] {4, 5, 6, 7, 3, 2, 1, 0}, m.freeListOrder(), "freed in reverse table order");
        runAndFree(2, B);
        assertArrayEquals(new int[] {3, 2, 1, 0, 7, 6, 5, 4}, m.freeListOrder());
        assertEquals(8, numFree(m));
        assertEquals(8, m.stats().cachedBlocks());
        assertEquals(4 * BS, m.findCachedPrefix(A, A.length));
        assertEquals(4 * BS, m.findCachedPrefix(B, B.length));
    }

    private void runAndFree(long id, int[] tokens) {
        assertTrue(m.allocate(id, tokens, 0, 4 * BS));
        m.markComputed(id, tokens, 4 * BS);
        m.free(id);
    }

    private int allocateFresh() {
        long id = nextId++;
        assertTrue(m.allocate(id, range(1000 * (int) id, 1), 0, 1));
        return m.blockTable(id)[0];
    }

    @Test
    void leastRecentlyFreedIsEvictedFirstTailBeforeHead() {
        assertEquals(3, allocateFresh(), "A's tail block goes first");
        assertNull(m.cachedTokens(3));
        assertEquals(3 * BS, m.findCachedPrefix(A, A.length));
        assertEquals(2, allocateFresh());
        assertEquals(2 * BS, m.findCachedPrefix(A, A.length));
        assertEquals(1, allocateFresh());
        assertEquals(0, allocateFresh(), "A's head block goes last of A's");
        assertEquals(0, m.findCachedPrefix(A, A.length));
        assertEquals(4 * BS, m.findCachedPrefix(B, B.length), "B was freed later and is untouched");
        assertEquals(7, allocateFresh());
        assertEquals(3 * BS, m.findCachedPrefix(B, B.length));
        assertEquals(3, m.stats().cachedBlocks());
    }

    @Test
    void aHitUnlinksCachedBlocksFromTheMiddleOfTheFreeList() {
        int cached = m.findCachedPrefix(B, B.length);
        assertTrue(m.allocate(3, B, cached, B.length));     // 4 hits + 1 fresh (block 3, evicted)
        assertArrayEquals(new int[] {4, 5, 6, 7, 3}, m.blockTable(3));
        assertArrayEquals(new int[] {2, 1, 0}, m.freeListOrder());
        assertEquals(3, numFree(m));
        m.free(3);
        // Reused blocks count as recently used again: they go behind A's remaining blocks.
        assertArrayEquals(new int[] {2, 1, 0, 3, 7, 6, 5, 4}, m.freeListOrder());
        assertEquals(3 * BS, m.findCachedPrefix(A, A.length), "A lost block 3 to the fresh block above");
        assertEquals(2, allocateFresh());
        assertEquals(2 * BS, m.findCachedPrefix(A, A.length));
        assertEquals(4 * BS, m.findCachedPrefix(B, B.length));
    }
}
