package io.basalt.model.arch;

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
}
