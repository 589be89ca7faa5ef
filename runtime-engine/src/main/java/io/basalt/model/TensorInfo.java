package io.basalt.model;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One stored tensor: its shape in row-major order (outermost dimension first, as PyTorch and
 * safetensors write it; GGUF's reversed {@code ne} order is flipped by its reader) and a read-only
 * slice of the mapped file holding exactly its bytes.
 */
public record TensorInfo(String name, DType dtype, long[] shape, MemorySegment data) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    public long dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    public long numElements() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public boolean hasShape(long... expected) { return Arrays.equals(shape, expected); }

    @Override
    public String toString() { return name + " " + dtype + Arrays.toString(shape); }
}
