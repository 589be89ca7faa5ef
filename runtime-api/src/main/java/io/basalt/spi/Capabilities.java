package io.basalt.spi;

/**
 * What a loaded model on a backend can do; the scheduler reads it and never asks the backend
 * anything else.
 *
 * @param shapePolicy            which batch shapes execute
 * @param mixedPrefillDecode     whether prefill chunks and decodes may share one step
 * @param kvLayout               paged blocks or per-sequence slots
 * @param numKvBlocks            KV capacity: blocks (PAGED) or slots (SLOTS), sized from the memory budget
 * @param onDeviceSampling       whether the runner draws each next token itself ({@link SequenceOutput.Sampled}, with
 *                               {@link SequenceInput.Sampling}) instead of returning logits; the engine then refuses
 *                               requests that need logits (logit_bias, penalties, min_tokens, logprobs)
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
