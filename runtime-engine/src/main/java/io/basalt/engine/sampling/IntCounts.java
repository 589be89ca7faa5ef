package io.basalt.engine.sampling;

import java.util.Arrays;

/**
 * Token id → count, open addressing with linear probing. Penalties touch only the tokens seen so
 * far, and a boxed HashMap would allocate on every generated token; this allocates only on growth.
 * Keys are token ids (>= 0); -1 marks an empty slot.
 */
final class IntCounts {
    private int[] keys;
    private int[] values;
    private int size;
    private int shift; // 32 - log2(capacity): the hash's top bits are its best-mixed ones

    IntCounts(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1; // load factor <= 0.5
        keys = new int[cap];
        values = new int[cap];
        shift = 32 - Integer.numberOfTrailingZeros(cap);
        Arrays.fill(keys, -1);
    }

    void increment(int key) {
        int slot = slotOf(key);
        if (keys[slot] == key) {
            values[slot]++;
            return;
        }
        keys[slot] = key;
        values[slot] = 1;
        if (++size * 2 > keys.length) grow();
    }

    int get(int key) {
        int slot = slotOf(key);
        return keys[slot] == key ? values[slot] : 0;
    }

    int size() { return size; }

    /** Slots, for allocation-free iteration: skip those whose {@link #keyAt} is negative. */
    int capacity() { return keys.length; }

    int keyAt(int slot) { return keys[slot]; }

    int valueAt(int slot) { return values[slot]; }

    /** The slot holding {@code key}, or the empty slot where it would go. */
    private int slotOf(int key) {
        int mask = keys.length - 1;
        int slot = (key * 0x9E3779B9) >>> shift; // Fibonacci hash: ids are dense, spread them
        while (keys[slot] != -1 && keys[slot] != key) slot = (slot + 1) & mask;
        return slot;
    }

    private void grow() {
        int[] oldKeys = keys, oldValues = values;
        keys = new int[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        shift--;
        Arrays.fill(keys, -1);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] < 0) continue;
            int slot = slotOf(oldKeys[i]);
            keys[slot] = oldKeys[i];
            values[slot] = oldValues[i];
        }
    }
}
