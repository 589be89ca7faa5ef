package io.basalt.model;

/**
 * Element types of stored tensors. Block-quantized types store {@code blockSize} elements in
 * {@code blockBytes} bytes along the last (contiguous) dimension.
 */
public enum DType {
    F64(1, 8), F32(1, 4), F16(1, 2), BF16(1, 2),
    I64(1, 8), I32(1, 4), I16(1, 2), I8(1, 1), U8(1, 1), BOOL(1, 1),
    /** GGML Q8_0: fp16 scale + 32 × int8. */
    Q8_0(32, 34),
    /** GGML Q4_0: fp16 scale + 16 bytes of nibbles (element j low nibble of byte j, j+16 high). */
    Q4_0(32, 18);

    private final int blockSize;
    private final int blockBytes;

    DType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public int blockSize() { return blockSize; }

    public int blockBytes() { return blockBytes; }

    public boolean isQuantized() { return blockSize > 1; }

    /** Bytes taken by {@code numElements} elements, or -1 when they do not fill whole blocks. */
    public long byteSize(long numElements) {
        if (numElements % blockSize != 0) return -1;
        return Math.multiplyExact(numElements / blockSize, (long) blockBytes);
    }
}
