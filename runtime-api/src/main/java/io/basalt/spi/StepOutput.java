package io.basalt.spi;

import java.util.List;

/**
 * What a step produced, one entry per input sequence in batch order: the next-token logits for
 * sequences that asked for them (null otherwise), or the sampled id on on-device-sampling backends
 * (-1 otherwise); and, when asked, per-layer hidden states [layer][token][hidden].
 */
public record StepOutput(List<float[]> logits, int[] sampledIds, List<float[][][]> hiddenStates) {
    public StepOutput {
        logits = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(logits));
        hiddenStates = hiddenStates == null ? List.of() : hiddenStates;
    }
}
