package io.basalt.bench;

import java.util.List;

/** What {@code basalt bench} measures, as written to {@code --json} (and passed from each child JVM to the parent). */
public record BenchReport(Machine machine, MachineProbes.Result probes, List<ModelResult> models, List<Fractions> fractions) {

    public record Machine(int cores, String cpu, long memoryBytes, String javaVersion, String javaVm, String os, String arch) { }

    /**
     * One model, measured in its own JVM. Accounting fields (bytes, FLOPs) are null for an
     * architecture without analytic accounting; figures are null when not measured.
     *
     * @param storage         how the weight matrices are held (as requested for q8_0: see the report)
     * @param bytesPerParam   bytes one matrix parameter costs to read in that storage
     * @param ttftSeconds     child JVM start (RuntimeMXBean) to the first generated token: JVM boot, load, short prefill, sample
     * @param ttftDiskFaults  page faults of the child that read from disk (Linux majflt) up to its first token: when
     *                        not 0, ttftSeconds includes disk reads (files the OS dropped from its page cache)
     * @param peakRssBytes    VmHWM of the child at its end (mapped weight pages it touched included)
     */
    public record ModelResult(String name, String path, String architecture, String storage, Double bytesPerParam,
                              long params, Long matrixParams, Double weightBytesPerToken, Double loadSeconds,
                              Double ttftSeconds, Long ttftDiskFaults, Decode decode, Prefill prefill, List<Aggregate> aggregate,
                              Long peakRssBytes, String error) {
        public ModelResult withError(String e) {
            return new ModelResult(name, path, architecture, storage, bytesPerParam, params, matrixParams, weightBytesPerToken,
                    loadSeconds, ttftSeconds, ttftDiskFaults, decode, prefill, aggregate, peakRssBytes, e);
        }
    }

    /**
     * Single-stream greedy decode: {@code rounds} rounds, each on a fresh cache holding the same
     * {@code promptTokens}-token prompt, of {@code stepsPerRound} timed steps.
     *
     * @param ctxAvg        positions a timed token attends, averaged (itself included)
     * @param bytesPerToken weights + KV at ctxAvg (null without accounting)
     */
    public record Decode(int promptTokens, int stepsPerRound, int rounds, double seconds, double tokPerSec, double ctxAvg,
                         Double bytesPerToken, Double flopsPerToken) { }

    /**
     * A prompt of {@code tokens} prefilled on a fresh cache (last token's logits only), {@code rounds}
     * times; fewer than {@code requestedTokens} when the full prompt would have run past the time budget.
     */
    public record Prefill(int tokens, int requestedTokens, int warmupTokens, int rounds, double seconds, double tokPerSec,
                          Double flops) { }

    /**
     * Continuous-batching decode with {@code concurrency} sequences: {@code steps} engine steps in the
     * timed window, each computing one token per sequence.
     *
     * @param flopsPerToken  2 × matrix params + attention at ctxAvg
     * @param bytesPerStep   weights once + every sequence's KV at ctxAvg
     * @param stepMs         wall time per step; executeMs the part in the model runner
     * @param otherCores     CPU cores kept busy by other processes during the window (noise; NaN off Linux)
     */
    public record Aggregate(int concurrency, int promptTokens, int steps, long generated, double seconds, double tokPerSec,
                            double ctxAvg, Double flopsPerToken, Double bytesPerStep, double stepMs, double executeMs,
                            double otherCores) { }

    /** Each model's figures as fractions of the probes (null where not measured or not accounted). */
    public record Fractions(String name, Double decodeOfReadBandwidth, Double prefillOfFmaPeak, List<AggregateFractions> aggregate) {
        static Fractions of(ModelResult r, MachineProbes.Result p) {
            return new Fractions(r.name(), r.decode() == null ? null : Report.decodeOfBandwidth(r.decode(), p),
                    r.prefill() == null ? null : Report.prefillOfPeak(r.prefill(), p),
                    r.aggregate().stream().map(a -> new AggregateFractions(a.concurrency(), Report.aggregateOfPeak(a, p),
                            Report.aggregateOfBandwidth(a, p))).toList());
        }
    }

    public record AggregateFractions(int concurrency, Double ofFmaPeak, Double ofReadBandwidth) { }
}
