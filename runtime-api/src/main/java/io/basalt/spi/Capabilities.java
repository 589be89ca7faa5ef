package io.basalt.spi;

/**
 * What a loaded model on a backend can do; the scheduler reads it and never asks the backend
 * anything else.
 *
 * @param shapePolicy            which batch shapes execute
 * @param mixedPrefillDecode     whether prefill chunks and decodes may share one step
 * @param kvLayout               paged blocks or per-sequence slots
 * @param numKvBlocks            KV capacity: blocks (PAGED) or slots (SLOTS), sized from the memory budget
 * @param onDeviceSampling       whether the runner returns sampled ids instead of logits
 */
public record Capabilities(ShapePolicy shapePolicy, boolean mixedPrefillDecode, KvLayout kvLayout, int numKvBlocks,
                           boolean onDeviceSampling) {
    public Capabilities {
        if (numKvBlocks <= 0) throw new IllegalArgumentException("a backend needs at least one KV block");
    }

    /** Positions per block: the block size (PAGED) or a slot's length (SLOTS). */
    public int kvBlockSize() {
        return switch (kvLayout) {
            case KvLayout.Paged p -> p.blockSize();
            case KvLayout.Slots s -> s.maxLength();
        };
    }
}
