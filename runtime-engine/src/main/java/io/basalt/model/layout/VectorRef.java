package io.basalt.model.layout;

import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import io.basalt.model.quant.Dequantize;
import java.lang.foreign.MemorySegment;

/**
 * A small tensor an architecture reads as fp32 (norm scales, biases, sinks): elements [start,
 * start + length) of the tensor {@code name} of shape {@code shape}, flattened.
 */
public record VectorRef(String name, long[] shape, long start, int length) {
    public VectorRef {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    /** The whole tensor. */
    public static VectorRef of(String name, long... shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return new VectorRef(name, shape, 0, Math.toIntExact(n));
    }

    /** Elements [start, start + length) of a tensor, flattened. */
    public static VectorRef slice(String name, long[] shape, long start, int length) {
        return new VectorRef(name, shape, start, length);
    }

    /**
     * The elements as fp32 on the heap, from any float storage; the tensor's shape must match. The same for every
     * backend (no packing, no cache), so every backend reads norms, biases and sinks alike.
     */
    public float[] read(Checkpoint checkpoint) {
        TensorInfo t = checkpoint.tensor(name, shape);
        MemorySegment data = t.data();
        if (start != 0 || length != t.numElements()) {
            long size = t.dtype().byteSize(1);
            data = data.asSlice(start * size, length * size);
        }
        float[] out = new float[length];
        switch (t.dtype()) {
            case F32, F16, BF16 -> Dequantize.row(data, t.dtype(), 0, out, 0, length);
            default -> throw new ModelFormatException(checkpoint.path(), "tensor '" + t.name() + "' is " + t.dtype()
                    + "; expected F32, F16 or BF16");
        }
        return out;
    }
}
