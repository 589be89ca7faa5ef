package io.basalt.spi;

import java.util.List;

/**
 * One engine step for the runner: block copies to apply first, then the sequences' new tokens.
 * {@code paddedShape} is the bucket a BUCKETED backend must run (null for DYNAMIC backends).
 */
public record Batch(List<BlockCopy> blockCopies, List<SequenceInput> sequences, ShapePolicy.Bucket paddedShape,
                    HiddenStates hiddenStates) {
    /** Whether the runner also returns each layer's output (for the parity harness). */
    public enum HiddenStates { NONE, PER_LAYER }

    public Batch {
        blockCopies = List.copyOf(blockCopies);
        sequences = List.copyOf(sequences);
    }

    public int numTokens() { return sequences.stream().mapToInt(SequenceInput::numTokens).sum(); }
}
