package io.basalt.backend.neuron;

import java.util.List;

/**
 * A compiled package's manifest.json (docs/NEURON.md §3), as read by {@link ManifestReader} and written by
 * {@link ManifestWriter}. Shapes are per rank.
 */
public record Manifest(String format, int version, String target, String compiler, Checkpoint checkpoint, int tpDegree,
                       String weightDtype, Kv kv, boolean chunkedPrefill, String output, List<Bucket> buckets) {
    public static final String FORMAT = "basalt-neuron-package";
    public static final int VERSION = 1;
    public static final String FILE = "manifest.json";

    public Manifest {
        buckets = List.copyOf(buckets);
    }

    public boolean outputsTokenIds() { return "token_ids".equals(output); }

    /** The checkpoint the package was compiled from. */
    public record Checkpoint(String architecture, List<FileEntry> files, Config config) {
        public Checkpoint {
            files = List.copyOf(files);
        }
    }

    /** One checkpoint file: name (relative to the model path's directory), size, SHA-256 (hex). */
    public record FileEntry(String name, long bytes, String sha256) { }

    /** The model configuration the graphs were compiled for; must equal the checkpoint's. */
    public record Config(int numLayers, int hiddenSize, int intermediateSize, int numHeads, int numKvHeads, int vocabSize,
                         int maxPositions, double rmsEps, double ropeTheta, int rotaryDims, String ropeStyle) {
        public int headDim() { return hiddenSize / numHeads; }
    }

    /** KV slots: max_batch sequences of max_length positions each. */
    public record Kv(int maxBatch, int maxLength, String dtype) { }

    /** One NEFF: a prefill bucket (batch × length) or a decode bucket (batch, kv_length). */
    public record Bucket(String tag, int batch, int length, int kvLength, String neff, String sha256, List<Input> inputs,
                         List<Output> outputs) {
        public static final String PREFILL = "prefill";
        public static final String DECODE = "decode";

        public Bucket {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
        }

        public boolean isPrefill() { return PREFILL.equals(tag); }
    }

    /**
     * A NEFF input. {@code role}: user | weight | state; {@code checkpointKey} only on weights, {@code shardAxis} on
     * weights split across ranks (null: replicated), {@code alias} (the output bound to the same tensor) only on states.
     */
    public record Input(String name, String role, String kind, String checkpointKey, long[] shape, String dtype,
                        Integer shardAxis, String alias) {
        public static final String USER = "user";
        public static final String WEIGHT = "weight";
        public static final String STATE = "state";
    }

    public record Output(String name, String kind, long[] shape, String dtype) { }
}
