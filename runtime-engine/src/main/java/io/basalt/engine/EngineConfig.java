package io.basalt.engine;

/**
 * Scheduler limits and KV budget.
 *
 * @param maxNumSeqs           most sequences running at once
 * @param maxNumBatchedTokens  token budget of one step (prefill chunks + decodes)
 * @param kvCacheMemoryBytes   memory the backend turns into KV blocks
 * @param enablePrefixCaching  reuse the KV of identical prompt prefixes across requests
 * @param maxModelLen          the context length served (prompt + output), at most the model's; 0 for the model's own
 */
public record EngineConfig(int maxNumSeqs, int maxNumBatchedTokens, long kvCacheMemoryBytes, boolean enablePrefixCaching,
                           int maxModelLen) {
    public EngineConfig {
        if (maxNumSeqs < 1) throw new IllegalArgumentException("--max-num-seqs must be >= 1, got " + maxNumSeqs);
        if (maxNumBatchedTokens < 1) {
            throw new IllegalArgumentException("--max-num-batched-tokens must be >= 1, got " + maxNumBatchedTokens);
        }
        if (kvCacheMemoryBytes < 1) throw new IllegalArgumentException("--kv-cache-memory must be positive");
        if (maxModelLen < 0 || maxModelLen == 1) {
            throw new IllegalArgumentException("--max-model-len must be at least 2 (one prompt and one generated token), got "
                    + maxModelLen);
        }
    }

    /** The model's own context length. */
    public EngineConfig(int maxNumSeqs, int maxNumBatchedTokens, long kvCacheMemoryBytes, boolean enablePrefixCaching) {
        this(maxNumSeqs, maxNumBatchedTokens, kvCacheMemoryBytes, enablePrefixCaching, 0);
    }

    /** CPU-sized defaults: 64 sequences, 2048 tokens a step, 512 MiB of KV, prefix caching on, the model's context. */
    public static EngineConfig defaults() { return new EngineConfig(64, 2048, 512L << 20, true, 0); }

    public EngineConfig withMaxNumSeqs(int v) {
        return new EngineConfig(v, maxNumBatchedTokens, kvCacheMemoryBytes, enablePrefixCaching, maxModelLen);
    }

    public EngineConfig withMaxNumBatchedTokens(int v) {
        return new EngineConfig(maxNumSeqs, v, kvCacheMemoryBytes, enablePrefixCaching, maxModelLen);
    }

    public EngineConfig withKvCacheMemoryBytes(long v) {
        return new EngineConfig(maxNumSeqs, maxNumBatchedTokens, v, enablePrefixCaching, maxModelLen);
    }

    public EngineConfig withPrefixCaching(boolean v) {
        return new EngineConfig(maxNumSeqs, maxNumBatchedTokens, kvCacheMemoryBytes, v, maxModelLen);
    }

    public EngineConfig withMaxModelLen(int v) {
        return new EngineConfig(maxNumSeqs, maxNumBatchedTokens, kvCacheMemoryBytes, enablePrefixCaching, v);
    }
}
