package io.basalt.kv;

import io.basalt.spi.KvLayout;

/** Picks the manager that matches the backend's KV layout. */
public final class KvCacheManagers {
    private KvCacheManagers() { }

    /**
     * @param numBlocks the pool size the backend measured; for {@link KvLayout.Slots} the slot count is part
     *     of the layout (it is compiled into the Neuron graphs), so numBlocks and prefix caching are ignored
     */
    public static KvCacheManager forLayout(KvLayout layout, int numBlocks, boolean enablePrefixCaching) {
        // No default: a new layout must fail to compile here until it has a manager.
        return switch (layout) {
            case KvLayout.Paged paged -> new PagedKvCacheManager(numBlocks, paged.blockSize(), enablePrefixCaching);
            case KvLayout.Slots slots -> new SlotKvCacheManager(slots.maxSequences(), slots.maxLength());
        };
    }
}
