package io.basalt.engine;

/**
 * Engine counters, read by metrics and tests. Token counts are totals since start; times are
 * totals in nanoseconds, so rates come from differences of two snapshots.
 */
public record EngineStats(int numWaiting, int numRunning, int kvUsedBlocks, int kvTotalBlocks,
                          long prefixQueryTokens, long prefixHitTokens, long numSteps, long numPromptTokensComputed,
                          long numGeneratedTokens, long numPreemptions, long scheduleNanos, long executeNanos,
                          long sampleNanos, long lastStepNanos, int numLiveKvSequences) {
    public double kvUsage() { return kvTotalBlocks == 0 ? 0 : kvUsedBlocks / (double) kvTotalBlocks; }
}
