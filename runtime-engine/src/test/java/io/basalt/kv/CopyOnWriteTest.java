package io.basalt.kv;

import static io.basalt.kv.KvTestSupport.numFree;
import static io.basalt.kv.KvTestSupport.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.kv.KvTestSupport.Snapshot;
import io.basalt.spi.BlockCopy;
import java.util.List;
import org.junit.jupiter.api.Test;

class CopyOnWriteTest {
    private static final int BS = 4;
    private static final int[] T = range(0, 32);
    private static final long P = 1;
    private static final long C = 2;

    /** Parent with numComputed tokens computed, then forked into C. */
    private static PagedKvCacheManager forked(int numBlocks, int numComputed) {
        var m = new PagedKvCacheManager(numBlocks, BS, true);
        assertTrue(m.allocate(P, T, 0, numComputed));
        m.markComputed(P, T, numComputed);
        m.fork(P, C);
        return m;
    }

    @Test
    void writingASharedPartialBlockCopiesItFirst() {
        var m = forked(8, 6);                                // block 0 full, block 1 holds 2 of 4
        int[] parent = m.blockTable(P);
        assertArrayEquals(parent, m.blockTable(C));
        assertEquals(2, m.refCount(parent[0]));
        assertEquals(2, m.refCount(parent[1]));
        assertEquals(6, numFree(m), "fork shares, it does not allocate");

        assertTrue(m.allocate(C, T, 6, 7));
        int[] child = m.blockTable(C);
        assertEquals(parent[0], child[0], "a full shared block is never copied");
        assertNotEquals(parent[1], child[1]);
        assertEquals(List.of(new BlockCopy(parent[1], child[1])), m.takePendingCopies());
        assertEquals(List.of(), m.takePendingCopies(), "drained");
        assertArrayEquals(parent, m.blockTable(P), "parent unchanged");
        assertEquals(2, m.refCount(parent[0]));
        assertEquals(1, m.refCount(parent[1]));
        assertEquals(1, m.refCount(child[1]));

        assertTrue(m.allocate(P, T, 6, 7));
        assertArrayEquals(parent, m.blockTable(P), "the parent now owns its block alone: written in place");
        assertTrue(m.allocate(C, T, 6, 9));
        assertEquals(3, m.blockTable(C).length);
        assertEquals(List.of(), m.takePendingCopies());

        m.free(P);
        assertEquals(1, m.refCount(parent[0]), "the child keeps the shared block alive");
        assertFalse(m.isOnFreeList(parent[0]));
        m.free(C);
        assertEquals(8, numFree(m));
    }

    @Test
    void forkAtABlockBoundaryCopiesNothing() {
        var m = forked(8, 8);
        assertTrue(m.allocate(C, T, 8, 9));
        assertTrue(m.allocate(P, T, 8, 9));
        assertEquals(List.of(), m.takePendingCopies());
        int[] p = m.blockTable(P);
        int[] c = m.blockTable(C);
        assertEquals(p[0], c[0]);
        assertEquals(p[1], c[1]);
        assertNotEquals(p[2], c[2]);
    }

    @Test
    void aSharedBlockWithNoValidKvIsReplacedWithoutACopy() {
        var m = new PagedKvCacheManager(8, BS, true);
        assertTrue(m.allocate(P, T, 0, 12));                 // allocated ahead of computing
        m.markComputed(P, T, 8);
        m.fork(P, C);
        assertTrue(m.allocate(C, T, 8, 12));
        assertNotEquals(m.blockTable(P)[2], m.blockTable(C)[2]);
        assertEquals(List.of(), m.takePendingCopies());
    }

    @Test
    void copyOnWriteNeedsAFreeBlockAndFailsCleanly() {
        var m = forked(2, 6);                                // both blocks in use, none free
        Snapshot before = Snapshot.of(m, List.of(P, C));
        assertFalse(m.allocate(C, T, 6, 7));
        assertEquals(before, Snapshot.of(m, List.of(P, C)));
        assertEquals(List.of(), m.takePendingCopies());
    }

    @Test
    void freeingTheCopyTargetDropsTheCopy() {
        var m = forked(8, 6);
        assertTrue(m.allocate(C, T, 6, 7));
        m.free(C);                                           // preempted before the step ran
        assertEquals(List.of(), m.takePendingCopies());
        assertEquals(6, numFree(m));
    }

    @Test
    void aFreedCopySourceIsHeldUntilTheRunnerTakesTheCopies() {
        var m = forked(3, 6);
        assertTrue(m.allocate(C, T, 6, 7));                  // copy parent[1] -> the last free block
        int[] parent = m.blockTable(P);
        m.free(P);                                           // preempted in the same scheduling round
        assertEquals(1, m.refCount(parent[1]), "the pending copy still reads it");
        assertFalse(m.isOnFreeList(parent[1]));
        assertEquals(0, numFree(m));
        assertEquals(List.of(new BlockCopy(parent[1], m.blockTable(C)[1])), m.takePendingCopies());
        assertEquals(0, m.refCount(parent[1]));
        assertEquals(1, numFree(m));
    }

    @Test
    void aCachedBlockIsNeverWrittenInPlace() {
        var m = new PagedKvCacheManager(8, BS, true);
        assertTrue(m.allocate(P, T, 0, 8));
        m.markComputed(P, T, 6);
        m.fork(P, C);                                        // C shares block 1 holding 2 computed positions
        m.markComputed(P, T, 8);                             // P fills block 1: cached with P's tokens
        int block = m.blockTable(P)[1];
        assertArrayEquals(range(4, BS), m.cachedTokens(block));
        m.free(P);                                           // C alone holds the cached block now
        int[] child = KvTestSupport.concat(range(0, 6), new int[] {99});
        assertTrue(m.allocate(C, child, 6, 7));
        assertEquals(block, m.blockTable(C)[1], "ours alone: written in place");
        assertEquals(null, m.cachedTokens(block), "but no longer cached, since C overwrites P's tokens");
        assertEquals(BS, m.findCachedPrefix(T, 9));
        assertEquals(List.of(), m.takePendingCopies());
    }

    @Test
    void forkChecksItsIds() {
        var m = forked(8, 6);
        assertThrows(IllegalArgumentException.class, () -> m.fork(P, C));
        assertThrows(IllegalArgumentException.class, () -> m.fork(99, 100));
    }
}
