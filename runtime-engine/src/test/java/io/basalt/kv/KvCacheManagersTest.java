package io.basalt.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.basalt.spi.KvLayout;
import org.junit.jupiter.api.Test;

class KvCacheManagersTest {
    @Test
    void pagedLayoutGetsAPagedManager() {
        KvCacheManager m = KvCacheManagers.forLayout(new KvLayout.Paged(16), 100, true);
        assertInstanceOf(PagedKvCacheManager.class, m);
        assertEquals(16, m.blockSize());
        assertEquals(100, m.numTotalBlocks());
    }

    @Test
    void slotLayoutGetsOneSlotPerSequence() {
        KvCacheManager m = KvCacheManagers.forLayout(new KvLayout.Slots(4, 2048), 100, true);
        assertInstanceOf(SlotKvCacheManager.class, m);
        assertEquals(2048, m.blockSize());
        assertEquals(4, m.numTotalBlocks());
    }
}
