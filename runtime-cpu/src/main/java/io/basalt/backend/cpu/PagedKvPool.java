package io.basalt.backend.cpu;

import io.basalt.backend.cpu.model.KvStore;

/**
 * The CPU backend's KV memory: per layer, one key and one value array holding numBlocks blocks of
 * blockSize positions × kvDim floats; a row's slot (block · blockSize + offset, from its block table)
 * indexes it. The engine's KV manager decides which blocks each sequence owns.
 */
final class PagedKvPool implements KvStore {
    private final int numBlocks;
    private final int blockSize;
    private final int kvDim;
    private final float[][] keys;
    private final float[][] values;

    PagedKvPool(int numLayers, int numBlocks, int blockSize, int kvDim) {
        long perLayer = (long) numBlocks * blockSize * kvDim;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV pool of " + numBlocks + " blocks is too large for one layer array; "
                    + "lower --kv-cache-memory");
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.kvDim = kvDim;
        this.keys = new float[numLayers][(int) perLayer];
        this.values = new float[numLayers][(int) perLayer];
    }

    int numBlocks() { return numBlocks; }

    /** Copies one block's keys and values in every layer (copy-on-write of a shared block). */
    void copyBlock(int source, int target) {
        int len = blockSize * kvDim;
        for (int l = 0; l < keys.length; l++) {
            System.arraycopy(keys[l], source * len, keys[l], target * len, len);
            System.arraycopy(values[l], source * len, values[l], target * len, len);
        }
    }

    @Override public float[] keys(int layer) { return keys[layer]; }

    @Override public float[] values(int layer) { return values[layer]; }
}
