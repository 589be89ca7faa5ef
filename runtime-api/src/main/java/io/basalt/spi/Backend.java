package io.basalt.spi;

import java.nio.file.Path;

/** A place where the model's math runs (cpu, torch, cuda, neuron). */
public interface Backend extends AutoCloseable {
    String name();

    /** Loads a model; the KV capacity is sized from {@code config.kvCacheMemoryBytes()}. */
    ModelRunner load(Path model, LoadConfig config);

    @Override
    default void close() { }

    /**
     * How to load: the KV memory budget, the scheduler limits the backend may size for, and how the
     * weights are stored ({@code --dtype}: auto, fp32, bf16, f16; {@code --quantize}: none, q8_0),
     * as text the backend interprets (an unsupported value is its error to report).
     */
    record LoadConfig(long kvCacheMemoryBytes, int maxNumSeqs, int maxNumBatchedTokens, String weightDtype, String quantize) {
        public LoadConfig {
            if (kvCacheMemoryBytes <= 0) throw new IllegalArgumentException("kv cache memory must be positive");
            if (maxNumSeqs <= 0 || maxNumBatchedTokens <= 0) throw new IllegalArgumentException("limits must be positive");
            weightDtype = weightDtype == null ? "auto" : weightDtype;
            quantize = quantize == null ? "none" : quantize;
        }

        /** Weights as stored in the file. */
        public LoadConfig(long kvCacheMemoryBytes, int maxNumSeqs, int maxNumBatchedTokens) {
            this(kvCacheMemoryBytes, maxNumSeqs, maxNumBatchedTokens, "auto", "none");
        }
    }
}
