package io.basalt.spi;

import java.nio.file.Path;

/** A place where the model's math runs (cpu, torch, cuda, neuron). */
public interface Backend extends AutoCloseable {
    String name();

    /** Loads a model; the KV capacity is sized from {@code config.kvCacheMemoryBytes()}. */
    ModelRunner load(Path model, LoadConfig config);

    @Override
    default void close() { }

    /** How to load: the KV memory budget and the scheduler limits the backend may size for. */
    record LoadConfig(long kvCacheMemoryBytes, int maxNumSeqs, int maxNumBatchedTokens) {
        public LoadConfig {
            if (kvCacheMemoryBytes <= 0) throw new IllegalArgumentException("kv cache memory must be positive");
            if (maxNumSeqs <= 0 || maxNumBatchedTokens <= 0) throw new IllegalArgumentException("limits must be positive");
        }
    }
}
