package io.basalt.spi;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One engine step for the runner: block copies to apply first, then the sequences' new tokens.
 * {@code paddedShape} is the bucket a BUCKETED backend must run; DYNAMIC backends get none.
 */
public record Batch(List<BlockCopy> blockCopies, List<SequenceInput> sequences, Optional<ShapePolicy.Bucket> paddedShape,
                    HiddenStates hiddenStates) {
    /** Whether the runner also returns each layer's output (for the parity harness). */
    public enum HiddenStates { NONE, PER_LAYER }

    public Batch {
        blockCopies = List.copyOf(blockCopies);
        sequences = List.copyOf(sequences);
        Objects.requireNonNull(paddedShape, "paddedShape");
        Objects.requireNonNull(hiddenStates, "hiddenStates");
    }

    /** A step for a DYNAMIC backend: run as it comes, no padding. */
    public Batch(List<BlockCopy> blockCopies, List<SequenceInput> sequences, HiddenStates hiddenStates) {
        this(blockCopies, sequences, Optional.empty(), hiddenStates);
    }

    public int numTokens() { return sequences.stream().mapToInt(SequenceInput::numTokens).sum(); }
}
