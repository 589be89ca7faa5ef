package io.basalt.kv;

import static io.basalt.kv.KvTestSupport.holds;
import static io.basalt.kv.KvTestSupport.numFree;
import static io.basalt.kv.KvTestSupport.range;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.spi.BlockCopy;
import java.util.List;
import org.junit.jupiter.api.Test;

class SlotKvCacheManagerTest {
    private static final int[] T = range(0, 16);

    @Test
    void oneSlotPerSequenceUpToCapacity() {
        var m = new SlotKvCacheManager(2, 8);
        assertEquals(8, m.blockSize());
        assertEquals(2, m.numTotalBlocks());
        assertTrue(m.allocate(1, T, 0, 8));
        assertTrue(m.allocate(2, T, 0, 3));
        assertArrayEquals(new int[] {0}, m.blockTable(1));
        assertArrayEquals(new int[] {1}, m.blockTable(2));
        assertEquals(0, numFree(m));
        assertFalse(m.allocate(3, T, 0, 1), "no free slot");
        assertFalse(holds(m, 3));
        assertTrue(m.allocate(2, T, 0, 8), "a known sequence grows inside its slot");
        assertFalse(m.allocate(2, T, 0, 9), "longer than a slot");
        assertArrayEquals(new int[] {1}, m.blockTable(2));
        assertEquals(new KvStats(0, 0, 2, 0, 2), m.stats());

        m.free(1);
        m.free(1);
        assertEquals(1, numFree(m));
        assertTrue(m.allocate(3, T, 0, 4));
        assertArrayEquals(new int[] {0}, m.blockTable(3), "the freed slot is reused");
        assertEquals(2, m.numLiveSequences());
    }

    @Test
    void tooLongNewSequenceTakesNoSlot() {
        var m = new SlotKvCacheManager(1, 8);
        assertFalse(m.allocate(1, T, 0, 9));
        assertEquals(1, numFree(m));
    }

    @Test
    void noPrefixCache() {
        var m = new SlotKvCacheManager(2, 8);
        assertTrue(m.allocate(1, T, 0, 8));
        m.markComputed(1, T, 8);
        m.free(1);
        assertEquals(0, m.findCachedPrefix(T, 8));
        assertThrows(IllegalArgumentException.class, () -> m.allocate(2, T, 4, 8));
        assertEquals(0, m.stats().cachedBlocks());
    }

    @Test
    void forkCopiesTheParentSlotIntoAFreshOne() {
        var m = new SlotKvCacheManager(3, 8);
        assertTrue(m.allocate(1, T, 0, 5));
        m.markComputed(1, T, 5);
        m.fork(1, 2);
        assertArrayEquals(new int[] {1}, m.blockTable(2));
        assertEquals(List.of(new BlockCopy(0, 1)), m.takePendingCopies());
        assertEquals(List.of(), m.takePendingCopies());
        assertEquals(1, numFree(m));
    }

    @Test
    void forkIntoAFullPoolFailsAndChangesNothing() {
        var m = new SlotKvCacheManager(1, 8);
        assertTrue(m.allocate(1, T, 0, 5));
        assertThrows(IllegalStateException.class, () -> m.fork(1, 2));
        assertFalse(holds(m, 2));
        assertEquals(List.of(), m.takePendingCopies());
        assertThrows(IllegalArgumentException.class, () -> m.fork(7, 8));
    }

    @Test
    void markComputedStaysInsideTheSlot() {
        var m = new SlotKvCacheManager(1, 8);
        assertTrue(m.allocate(1, T, 0, 8));
        assertThrows(IllegalArgumentException.class, () -> m.markComputed(1, T, 9));
        m.markComputed(1, T, 4);
        assertThrows(IllegalArgumentException.class, () -> m.markComputed(2, T, 1), "unknown sequence");
    }
}
