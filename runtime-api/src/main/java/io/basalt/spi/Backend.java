package io.basalt.spi;

import java.nio.file.Path;
import java.util.Optional;

/** A place where the model's math runs (cpu, torch, cuda, neuron). */
public interface Backend extends AutoCloseable {
    String name();

    /** Loads a model; the KV capacity is sized from {@code config.kvCacheMemoryBytes()}. */
    ModelRunner load(Path model, LoadConfig config);

    @Override
    default void close() { }

    /**
     * How to load.
     *
     * @param kvCacheMemoryBytes  the KV budget the backend sizes its pool from
     * @param maxNumSeqs          the engine's sequences per step; with {@code maxNumBatchedTokens}, what an accelerator
     *                            sizes for before the KV pool (CUDA: graphs captured for batch sizes up to it and the
     *                            activation memory of a full step; Neuron: its compiled buckets must cover both). The
     *                            CPU and torch backends allocate per step and read neither.
     * @param maxNumBatchedTokens the engine's tokens per step
     * @param storage             how float weight matrices are stored ({@code --dtype})
     * @param quantization        block quantization at load ({@code --quantize})
     * @param compiled            ahead-of-time compiled artifacts for the model (a Neuron package: {@code --compiled});
     *                            empty for backends that compile nothing ahead, which refuse one
     */
    record LoadConfig(long kvCacheMemoryBytes, int maxNumSeqs, int maxNumBatchedTokens, StorageDtype storage,
                      Quantization quantization, Optional<Path> compiled) {
        public LoadConfig {
            if (kvCacheMemoryBytes <= 0) throw new IllegalArgumentException("kv cache memory must be positive");
            if (maxNumSeqs <= 0 || maxNumBatchedTokens <= 0) throw new IllegalArgumentException("limits must be positive");
            if (storage == null || quantization == null) throw new IllegalArgumentException("storage and quantization are required");
            if (compiled == null) throw new IllegalArgumentException("compiled is required (Optional.empty() for none)");
        }

        /** Nothing compiled ahead. */
        public LoadConfig(long kvCacheMemoryBytes, int maxNumSeqs, int maxNumBatchedTokens, StorageDtype storage,
                          Quantization quantization) {
            this(kvCacheMemoryBytes, maxNumSeqs, maxNumBatchedTokens, storage, quantization, Optional.empty());
        }

        /** This configuration with a compiled package. */
        public LoadConfig withCompiled(Path dir) {
            return new LoadConfig(kvCacheMemoryBytes, maxNumSeqs, maxNumBatchedTokens, storage, quantization, Optional.of(dir));
        }

        /** Weights as stored in the file. */
        public LoadConfig(long kvCacheMemoryBytes, int maxNumSeqs, int maxNumBatchedTokens) {
            this(kvCacheMemoryBytes, maxNumSeqs, maxNumBatchedTokens, StorageDtype.AUTO, Quantization.NONE);
        }
    }
}
