package io.basalt.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.basalt.spi.BlockCopy;
import java.util.List;

/**
 * The paged KV pool on the device: per layer, one key and one value array of [numBlocks ·
 * blockSize, kvDim]; position p of a sequence lives in row blockTable[p / blockSize] · blockSize +
 * p % blockSize (its "slot"). Writes and reads go through slot index arrays, in place.
 */
final class TorchKvCache implements AutoCloseable {
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int blockSize;

    TorchKvCache(NDManager manager, int numLayers, int numBlocks, int blockSize, int kvDim, TorchDtype dtype) {
        this.blockSize = blockSize;
        keys = new NDArray[numLayers];
        values = new NDArray[numLayers];
        Shape shape = new Shape((long) numBlocks * blockSize, kvDim);
        for (int l = 0; l < numLayers; l++) {
            keys[l] = manager.zeros(shape, dtype.dataType);
            values[l] = manager.zeros(shape, dtype.dataType);
        }
    }

    /** Copy-on-write: each block's keys and values in every layer, in the order given. */
    void copyBlocks(List<BlockCopy> copies) {
        for (BlockCopy c : copies) {
            NDIndex from = rowsOf(c.source());
            NDIndex to = rowsOf(c.target());
            for (int l = 0; l < keys.length; l++) {
                keys[l].set(to, keys[l].get(from));
                values[l].set(to, values[l].get(from));
            }
        }
    }

    private NDIndex rowsOf(int block) {
        return new NDIndex((long) block * blockSize + ":" + (long) (block + 1) * blockSize);
    }

    /** Stores the step's keys and values ([rows, kvDim] each) at their slots (int64 [rows]). */
    void write(int layer, NDArray slots, NDArray k, NDArray v) {
        NDIndex at = new NDIndex("{}", slots);
        keys[layer].set(at, k);
        values[layer].set(at, v);
    }

    /** Keys at the given slots, [slots, kvDim]. */
    NDArray keys(int layer, NDArray slots) { return keys[layer].get(new NDIndex("{}", slots)); }

    NDArray values(int layer, NDArray slots) { return values[layer].get(new NDIndex("{}", slots)); }

    @Override
    public void close() {
        for (int l = 0; l < keys.length; l++) {
            keys[l].close();
            values[l].close();
        }
    }
}
