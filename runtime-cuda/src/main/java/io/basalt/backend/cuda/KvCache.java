package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import io.basalt.spi.BlockCopy;
import java.util.List;

/**
 * The paged KV pool on the device: per layer K and V as fp32 [slots][kvDim], slot = block · blockSize + offset. One
 * block past the engine's ({@link #scratchBlock}) takes the keys of the padded rows of a decode graph, so padding never
 * writes into a sequence's blocks.
 */
final class KvCache implements AutoCloseable {
    private final DeviceMemory memory;
    private final DeviceBuffer[] keys;
    private final DeviceBuffer[] values;
    private final int numBlocks;
    private final int blockSize;
    private final long blockBytes;

    KvCache(Cuda cuda, int numLayers, int numBlocks, int blockSize, int kvDim) {
        this.memory = new DeviceMemory(cuda);
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.blockBytes = 4L * blockSize * kvDim;
        this.keys = new DeviceBuffer[numLayers];
        this.values = new DeviceBuffer[numLayers];
        long bytes = Math.multiplyExact(blockBytes, numBlocks + 1L);
        try {
            for (int l = 0; l < numLayers; l++) {
                keys[l] = memory.zeros(bytes);
                values[l] = memory.zeros(bytes);
            }
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    DeviceBuffer keys(int layer) { return keys[layer]; }

    DeviceBuffer values(int layer) { return values[layer]; }

    /** The engine's blocks; the scratch block is not one of them. */
    int numBlocks() { return numBlocks; }

    int scratchBlock() { return numBlocks; }

    int scratchSlot() { return numBlocks * blockSize; }

    /** Copy-on-write: each copy's source block into its target, every layer, in order on the stream. */
    void copyBlocks(List<BlockCopy> copies, Stream stream) {
        for (BlockCopy c : copies) {
            if (c.source() < 0 || c.source() >= numBlocks || c.target() < 0 || c.target() >= numBlocks) {
                throw new IllegalArgumentException("block copy " + c.source() + " → " + c.target() + " outside the pool of " + numBlocks + " blocks");
            }
            for (int l = 0; l < keys.length; l++) {
                Cuda cuda = memory.cuda();
                cuda.copyDeviceToDevice(keys[l].slice(c.target() * blockBytes, blockBytes), keys[l].slice(c.source() * blockBytes, blockBytes), stream);
                cuda.copyDeviceToDevice(values[l].slice(c.target() * blockBytes, blockBytes), values[l].slice(c.source() * blockBytes, blockBytes), stream);
            }
        }
    }

    @Override
    public void close() { memory.close(); }
}
