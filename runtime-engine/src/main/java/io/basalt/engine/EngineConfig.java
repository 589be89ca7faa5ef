package io.basalt.engine;

/**
 * Scheduler limits and KV budget.
 *
 * @param maxNumSeqs           most sequences running at once
 * @param maxNumBatchedTokens  token budget of one step (prefill chunks + decodes)
 * @param kvCacheMemoryBytes   memory the backend turns into KV blocks
 * @param enablePrefixCaching  reuse the KV of identical prompt prefixes across requests
 */
public record EngineConfig(int maxNumSeqs, int maxNumBatchedTokens, long kvCacheMemoryBytes, boolean enablePrefixCaching) {
    public EngineConfig {
        if (maxNumSeqs < 1) throw new IllegalArgumentException("--max-num-seqs must be >= 1, got " + maxNumSeqs);
        if (maxNumBatchedTokens < 1) {
            throw new IllegalArgumentException("--max-num-batched-tokens must be >= 1, got " + maxNumBatchedTokens);
        }
        if (kvCacheMemoryBytes < 1) throw new IllegalArgumentException("--kv-cache-memory must be positive");
    }

    /** CPU-sized defaults: 64 sequences, 2048 tokens a step, 512 MiB of KV, prefix caching on. */
    public static EngineConfig defaults() { return new EngineConfig(64, 2048, 512L << 20, true); }

    public EngineConfig withMaxNumSeqs(int v) { return new EngineConfig(v, maxNumBatchedTokens, kvCacheMemoryBytes, enablePrefixCaching); }

    public EngineConfig withMaxNumBatchedTokens(int v) { return new EngineConfig(maxNumSeqs, v, kvCacheMemoryBytes, enablePrefixCaching); }

    public EngineConfig withKvCacheMemoryBytes(long v) { return new EngineConfig(maxNumSeqs, maxNumBatchedTokens, v, enablePrefixCaching); }

    public EngineConfig withPrefixCaching(boolean v) { return new EngineConfig(maxNumSeqs, maxNumBatchedTokens, kvCacheMemoryBytes, v); }
}
