package io.basalt.spi;

/** How a backend lays out the KV cache; the engine's KV manager follows it. */
public sealed interface KvLayout {
    /** Fixed-size blocks shared out through per-sequence block tables (vLLM-style paged attention). */
    record Paged(int blockSize) implements KvLayout {
        public Paged {
            if (blockSize <= 0) throw new IllegalArgumentException("blockSize must be positive");
        }
    }

    /** One contiguous region per sequence slot (Neuron): a sequence is admitted only into a free slot. */
    record Slots(int maxSequences, int maxLength) implements KvLayout {
        public Slots {
            if (maxSequences <= 0 || maxLength <= 0) throw new IllegalArgumentException("slots need positive sizes");
        }
    }
}
