package io.basalt.model.layout;

import io.basalt.model.DType;

/**
 * The KV cache's shape, from the architecture and the same for every backend: each layer keeps, per position,
 * {@code numKvHeads} keys and as many values of {@code headDim} elements. Backends size their pools and report
 * their KV cost ({@code ModelSpec.kvBytesPerToken}) from it, so the arithmetic and its error read the same
 * everywhere.
 */
public record KvGeometry(int numLayers, int numKvHeads, int headDim) {
    public KvGeometry {
        if (numLayers <= 0 || numKvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV geometry needs positive sizes, got " + numLayers + " layers, " + numKvHeads
                    + " KV heads of " + headDim);
        }
    }

    /** Elements of K (and as many of V) per position in each layer. */
    public int kvDim() { return numKvHeads * headDim; }

    /** Bytes one position of one sequence takes: K and V in every layer, stored as {@code dtype}. */
    public long bytesPerToken(DType dtype) {
        long perLayer = dtype.byteSize(kvDim());
        if (perLayer < 0) throw new IllegalArgumentException("a KV row of " + kvDim() + " elements is not whole " + dtype + " blocks");
        return 2L * numLayers * perLayer;
    }

    /**
     * How many blocks of {@code blockSize} positions a budget of {@code memoryBytes} holds, as {@code dtype}; capped at
     * Integer.MAX_VALUE / 2 so block ids and counts stay ints. A budget that holds none is an error that names both sizes.
     */
    public int numBlocks(long memoryBytes, int blockSize, DType dtype) {
        long perBlock = bytesPerToken(dtype) * blockSize;
        long blocks = memoryBytes / perBlock;
        if (blocks < 1) {
            throw new IllegalArgumentException("--kv-cache-memory of " + memoryBytes + " bytes holds no KV block; one block of "
                    + blockSize + " positions needs " + perBlock);
        }
        return (int) Math.min(blocks, Integer.MAX_VALUE / 2);
    }
}
