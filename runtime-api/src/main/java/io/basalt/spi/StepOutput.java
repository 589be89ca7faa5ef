package io.basalt.spi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a step produced: one {@link SequenceOutput} per input sequence in batch order (logits, a sampled id,
 * or nothing for a sequence that did not ask) and, when asked, per-layer hidden states [layer][token][hidden]
 * per sequence (empty otherwise).
 */
public record StepOutput(List<SequenceOutput> sequences, List<float[][][]> hiddenStates) {
    public StepOutput {
        sequences = List.copyOf(sequences);
        hiddenStates = Collections.unmodifiableList(new ArrayList<>(hiddenStates));
    }

    /** Sequence {@code i}'s logits; throws when the runner returned something else for it. */
    public float[] logits(int i) {
        return switch (sequences.get(i)) {
            case SequenceOutput.Logits l -> l.values();
            case SequenceOutput.Sampled s -> throw new IllegalStateException("sequence " + i + " of the step returned a sampled id, not logits");
            case SequenceOutput.None n -> throw new IllegalStateException("sequence " + i + " of the step returned no logits");
        };
    }
}
