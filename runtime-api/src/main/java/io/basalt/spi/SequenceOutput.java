package io.basalt.spi;

/** What one sequence's step produced ({@link StepOutput#sequences()}, in batch order). */
public sealed interface SequenceOutput {
    /** The sequence did not ask ({@link SequenceInput#needLogits()} false): a prefill chunk short of the prompt's end. */
    SequenceOutput NONE = new None();

    record None() implements SequenceOutput { }

    /** The next-token logits, one per vocabulary entry (backends that leave sampling to the engine). */
    record Logits(float[] values) implements SequenceOutput {
        public Logits {
            if (values.length == 0) throw new IllegalArgumentException("empty logits");
        }
    }

    /** The next token, drawn on the device with the sequence's {@link SequenceInput.Sampling}. */
    record Sampled(int tokenId) implements SequenceOutput {
        public Sampled {
            if (tokenId < 0) throw new IllegalArgumentException("negative token id " + tokenId);
        }
    }
}
