package io.basalt.spi;

import java.util.Comparator;
import java.util.List;

/** Which batch shapes a backend can execute. */
public sealed interface ShapePolicy {
    /** Any number of sequences and tokens (CPU, Torch, CUDA). */
    record Dynamic() implements ShapePolicy { }

    /**
     * Only the compiled shapes (Neuron NEFFs). A step is padded up to the smallest bucket that holds
     * it and never exceeds the largest.
     */
    record Bucketed(List<Bucket> buckets) implements ShapePolicy {
        public Bucketed {
            if (buckets.isEmpty()) throw new IllegalArgumentException("a bucketed backend needs at least one bucket");
            buckets = buckets.stream().sorted(Comparator.comparingInt(Bucket::numSequences)
                    .thenComparingInt(Bucket::numTokens)).toList();
        }

        /** The smallest bucket (fewest tokens, then fewest sequences) that holds the step, or null. */
        public Bucket fit(int numSequences, int numTokens) {
            Bucket best = null;
            for (Bucket b : buckets) {
                if (b.numSequences() >= numSequences && b.numTokens() >= numTokens
                        && (best == null || b.numTokens() < best.numTokens()
                            || (b.numTokens() == best.numTokens() && b.numSequences() < best.numSequences()))) {
                    best = b;
                }
            }
            return best;
        }

        public int maxSequences() { return buckets.stream().mapToInt(Bucket::numSequences).max().orElseThrow(); }

        public int maxTokens() { return buckets.stream().mapToInt(Bucket::numTokens).max().orElseThrow(); }
    }

    /** One compiled shape: up to numSequences sequences carrying up to numTokens new tokens in all. */
    record Bucket(int numSequences, int numTokens) {
        public Bucket {
            if (numSequences <= 0 || numTokens < numSequences) {
                throw new IllegalArgumentException("bucket needs 0 < numSequences <= numTokens, got " + numSequences + ", " + numTokens);
            }
        }
    }
}
