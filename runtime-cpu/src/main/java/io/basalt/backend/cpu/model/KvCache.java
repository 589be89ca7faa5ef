package io.basalt.backend.cpu.model;

import java.util.Arrays;

/**
 * One sequence's contiguous key/value cache (the single-sequence path: tests, benchmarks): per layer,
 * keys and values laid out [position][kvDim]. Grows by doubling up to {@code maxPositions}, so short
 * sequences on long-context models stay small. Seen as a pool, it is block 0 of {@code maxPositions}
 * positions, so a position's slot is the position itself. The engine uses the paged pool instead.
 */
public final class KvCache implements KvStore {
    private final int numLayers;
    private final int kvDim;
    private final int maxPositions;
    private final float[][] keys;
    private final float[][] values;
    private int capacity;
    private int length;

    public KvCache(int numLayers, int kvDim, int maxPositions) {
        this.numLayers = numLayers;
        this.kvDim = kvDim;
        this.maxPositions = maxPositions;
        this.capacity = Math.min(maxPositions, 64);
        this.keys = new float[numLayers][Math.multiplyExact(capacity, kvDim)];
        this.values = new float[numLayers][Math.multiplyExact(capacity, kvDim)];
    }

    /** Number of positions whose keys and values are stored. */
    public int length() { return length; }

    public int maxPositions() { return maxPositions; }

    public int kvDim() { return kvDim; }

    /** Makes room for positions [0, newLength); fails past the model's context length. */
    public void ensureCapacity(int newLength) {
        if (newLength > maxPositions) {
            throw new IllegalArgumentException("sequence of " + newLength + " positions exceeds the model's context length of "
                    + maxPositions);
        }
        if (newLength <= capacity) return;
        int next = (int) Math.min(maxPositions, Math.max((long) newLength, 2L * capacity));
        for (int l = 0; l < numLayers; l++) {
            keys[l] = Arrays.copyOf(keys[l], Math.multiplyExact(next, kvDim));
            values[l] = Arrays.copyOf(values[l], Math.multiplyExact(next, kvDim));
        }
        capacity = next;
    }

    @Override
    public float[] keys(int layer) { return keys[layer]; }

    @Override
    public float[] values(int layer) { return values[layer]; }

    /** Records that positions up to newLength are filled (called once per forward, after all layers). */
    public void setLength(int newLength) { this.length = newLength; }

    /** Forgets positions from {@code newLength} on (e.g. to re-run a suffix). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("cannot truncate to " + newLength);
        length = newLength;
    }
}
