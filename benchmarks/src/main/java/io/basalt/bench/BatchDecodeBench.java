package io.basalt.bench;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.EngineStats;
import io.basalt.engine.RequestHandle;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.arch.Model;
import io.basalt.model.arch.ModelLoader;
import io.basalt.spi.Backend;
import io.basalt.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Aggregate decode throughput of the continuous-batching engine at several concurrencies. For each
 * concurrency C: one untimed warm-up round, then timed round(s). A round submits C greedy requests
 * (ignoreEos, random 8-token prompts, maxTokens M) at once and drives {@link Engine#step()} itself;
 * the clock starts once every prompt is computed (the prefill step, which also samples each
 * sequence's first token) and stops when the engine is idle. Throughput is generated tokens in
 * that window over its seconds. The step-time split comes from {@link EngineStats} deltas:
 * schedule + sample (engine overhead) against runner.execute; "other" is wall time per step not
 * covered by those three timers.
 *
 * <pre>java ... io.basalt.bench.BatchDecodeBench (MODEL_PATH | --synthetic gpt2|medium|large|xl)
 *     [--concurrency 1,4,16] [--max-tokens N] [--prompt-tokens 8] [--rounds 1]</pre>
 */
public final class BatchDecodeBench {
    private BatchDecodeBench() {}

    private static final String USAGE = "usage: bench-batch (MODEL_PATH | --synthetic gpt2|medium|large|xl) "
            + "[--concurrency 1,4,16] [--max-tokens N] [--prompt-tokens N] [--rounds N]";

    /** One timed window's numbers. */
    record Result(int concurrency, long generated, long steps, double seconds, long scheduleNanos, long executeNanos,
                  long sampleNanos, double processCpuSeconds, double otherCpuSeconds) {
        double tokPerSec() { return generated / seconds; }

        double stepMs() { return seconds * 1e3 / steps; }

        double perStepMs(long nanos) { return nanos / 1e6 / steps; }

        double otherMs() { return stepMs() - perStepMs(scheduleNanos + executeNanos + sampleNanos); }

        /** schedule + sample as a share of schedule + execute + sample. */
        double overheadPct() {
            long total = scheduleNanos + executeNanos + sampleNanos;
            return total == 0 ? 0 : 100.0 * (scheduleNanos + sampleNanos) / total;
        }

        /** everything but execute as a share of the measured wall time. */
        double nonExecutePctOfWall() { return 100.0 * (1 - executeNanos / 1e9 / seconds); }

        /** CPU cores this JVM kept busy on average over the window. */
        double processCores() { return processCpuSeconds / seconds; }

        /** CPU cores the rest of the machine kept busy (other processes: noise), NaN where /proc/stat is missing. */
        double otherCores() { return otherCpuSeconds / seconds; }

        Result plus(Result o) {
            return new Result(concurrency, generated + o.generated, steps + o.steps, seconds + o.seconds,
                    scheduleNanos + o.scheduleNanos, executeNanos + o.executeNanos, sampleNanos + o.sampleNanos,
                    processCpuSeconds + o.processCpuSeconds, otherCpuSeconds + o.otherCpuSeconds);
        }
    }

    public static void main(String[] args) throws Exception {
        Path path = null;
        String modelName = null;
        boolean synthetic = false;
        int[] concurrencies = {1, 4, 16};
        int maxTokens = -1;
        int promptTokens = 8;
        int rounds = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--synthetic" -> {
                    SyntheticGpt2.Size size = SyntheticGpt2.Size.valueOf(need(args, ++i).toUpperCase(Locale.ROOT));
                    String lower = size.name().toLowerCase(Locale.ROOT);
                    path = SyntheticGpt2.cached(size);
                    modelName = (size == SyntheticGpt2.Size.GPT2 ? "gpt2-124m" : "gpt2-" + lower) + "-synthetic";
                    synthetic = true;
                }
                case "--concurrency" -> concurrencies = Arrays.stream(need(args, ++i).split(","))
                        .map(String::trim).mapToInt(Integer::parseInt).toArray();
                case "--max-tokens" -> maxTokens = Integer.parseInt(need(args, ++i));
                case "--prompt-tokens" -> promptTokens = Integer.parseInt(need(args, ++i));
                case "--rounds" -> rounds = Integer.parseInt(need(args, ++i));
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    if (a.startsWith("-") || path != null) usage("unexpected argument '" + a + "'");
                    path = Path.of(a);
                    String file = path.getFileName().toString();
                    modelName = file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file;
                }
            }
        }
        if (path == null) usage("no model given");
        if (!Files.exists(path)) usage("no such model: " + path);
        if (maxTokens < 0) maxTokens = synthetic ? 64 : 256;
        if (maxTokens < 2 || promptTokens < 1 || rounds < 1 || concurrencies.length == 0
                || Arrays.stream(concurrencies).anyMatch(c -> c < 1)) {
            usage("--max-tokens must be >= 2, --prompt-tokens and --rounds >= 1, concurrencies >= 1");
        }
        int maxC = Arrays.stream(concurrencies).max().getAsInt();

        // KV for maxC sequences of prompt + maxTokens positions (+ a block of slack each), with headroom.
        long bytesPerToken;
        int maxPositions;
        try (Model peek = ModelLoader.load(path)) {
            bytesPerToken = 2L * 4 * peek.kvDim() * peek.info().numLayers();
            maxPositions = peek.info().maxPositions();
        }
        if (promptTokens + maxTokens > maxPositions) {
            usage("prompt (" + promptTokens + ") + --max-tokens (" + maxTokens + ") exceeds the model's context of " + maxPositions);
        }
        long kvBytes = (long) (1.25 * maxC * (promptTokens + maxTokens + 2L * CpuModelRunner.BLOCK_SIZE) * bytesPerToken);
        CpuModelRunner runner = new CpuBackend().load(path, new Backend.LoadConfig(kvBytes, maxC, Math.max(2048, maxC * promptTokens)));
        Tokenizer tok = ModelTokenizer.forModel(runner.model().info(), null);
        EngineConfig config = EngineConfig.defaults().withMaxNumSeqs(Math.max(maxC, 1))
                .withMaxNumBatchedTokens(Math.max(2048, maxC * promptTokens)).withKvCacheMemoryBytes(kvBytes);

        System.out.printf(Locale.ROOT, "model %s (%s), %d layers, hidden %d, vocab %d; prompt %d tokens, max-tokens %d, %d timed round(s) per C; "
                        + "%d CPUs, java %s%n", modelName, path, runner.model().info().numLayers(), runner.model().info().hiddenSize(),
                runner.model().info().vocabSize(), promptTokens, maxTokens, rounds,
                Runtime.getRuntime().availableProcessors(), Runtime.version());

        List<Result> results = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(42);
        try (Engine engine = new Engine(runner, tok, config)) {
            int vocab = runner.spec().vocabSize();
            for (int c : concurrencies) {
                runRound(engine, c, promptTokens, maxTokens, vocab, random); // warm-up
                Result sum = null;
                for (int r = 0; r < rounds; r++) {
                    Result res = runRound(engine, c, promptTokens, maxTokens, vocab, random);
                    sum = sum == null ? res : sum.plus(res);
                }
                results.add(sum);
                System.err.printf(Locale.ROOT, "  C=%d: %.1f tok/s%n", c, sum.tokPerSec());
            }
        }

        Double base = results.stream().filter(r -> r.concurrency() == 1).map(Result::tokPerSec).findFirst().orElse(null);
        System.out.println();
        System.out.printf(Locale.ROOT, "%-22s %4s %6s %8s %9s %8s %9s %9s %9s %9s %10s %10s %9s %10s%n", "model", "C", "steps", "tok/s",
                "speedup", "step ms", "exec ms", "sched ms", "sample ms", "other ms", "overhead%", "non-exec%", "our cpu", "other cpu");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "%-22s %4d %6d %8.1f %9s %8.2f %9.2f %9.3f %9.3f %9.3f %10.2f %10.2f %9.2f %10.2f%n", modelName,
                    r.concurrency(), r.steps(), r.tokPerSec(),
                    base == null ? "-" : String.format(Locale.ROOT, "%.2fx", r.tokPerSec() / base),
                    r.stepMs(), r.perStepMs(r.executeNanos()), r.perStepMs(r.scheduleNanos()), r.perStepMs(r.sampleNanos()),
                    r.otherMs(), r.overheadPct(), r.nonExecutePctOfWall(), r.processCores(), r.otherCores());
        }
        System.out.println("(overhead% = (schedule + sample) / (schedule + execute + sample); non-exec% = 1 - execute / wall time;");
        System.out.println(" our/other cpu = cores busy on average in the timed window in this JVM / in the rest of the machine:"
                + " other cpu well above 0 means the numbers are disturbed by other load)");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "RESULT model=%s C=%d tok_s=%.2f speedup=%s step_ms=%.3f exec_ms=%.3f sched_ms=%.4f "
                            + "sample_ms=%.4f other_ms=%.4f overhead_pct=%.3f generated=%d steps=%d seconds=%.3f our_cpu=%.2f other_cpu=%.2f%n",
                    modelName, r.concurrency(), r.tokPerSec(),
                    base == null ? "NA" : String.format(Locale.ROOT, "%.3f", r.tokPerSec() / base), r.stepMs(),
                    r.perStepMs(r.executeNanos()), r.perStepMs(r.scheduleNanos()), r.perStepMs(r.sampleNanos()), r.otherMs(),
                    r.overheadPct(), r.generated(), r.steps(), r.seconds(), r.processCores(), r.otherCores());
        }
    }

    /** Submits c requests at once, steps through their prefill untimed, then times the decode phase to idle. */
    private static Result runRound(Engine engine, int c, int promptTokens, int maxTokens, int vocab, SplittableRandom random) {
        SamplingParams params = SamplingParams.builder().temperature(0f).maxTokens(maxTokens).ignoreEos(true).build();
        EngineStats start = engine.stats();
        List<RequestHandle> handles = new ArrayList<>(c);
        for (int i = 0; i < c; i++) {
            int[] prompt = new int[promptTokens];
            // ids from 3 up: clear of llama2.c's <unk>/<s>/</s>; GPT-2's only special id is the last one
            for (int j = 0; j < promptTokens; j++) prompt[j] = 3 + random.nextInt(Math.max(1, vocab - 4));
            handles.add(engine.submit(new EngineRequest("bench-" + c + "-" + start.numSteps() + "-" + i, prompt, params, 0)));
        }
        long promptTarget = start.numPromptTokensComputed() + (long) c * promptTokens;
        while (engine.stats().numPromptTokensComputed() < promptTarget) {
            if (!engine.hasWork()) throw new IllegalStateException("engine went idle before the prompts were computed");
            engine.step();
        }
        EngineStats s0 = engine.stats();
        double machineBusy0 = machineBusySeconds();
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        while (engine.hasWork()) engine.step();
        long t1 = System.nanoTime();
        long cpu1 = processCpuNanos();
        double machineBusy1 = machineBusySeconds();
        EngineStats s1 = engine.stats();
        for (RequestHandle h : handles) {
            RequestHandle.Result r = h.result().getNow(null);
            if (r == null || r.numGeneratedTokens() != maxTokens || r.choices().get(0).finishReason() != FinishReason.LENGTH) {
                throw new IllegalStateException("request " + h.requestId() + " did not generate " + maxTokens + " tokens: " + r);
            }
        }
        if (s1.numPreemptions() != start.numPreemptions()) {
            System.err.println("warning: " + (s1.numPreemptions() - start.numPreemptions()) + " preemption(s) at C=" + c);
        }
        return new Result(c, s1.numGeneratedTokens() - s0.numGeneratedTokens(), s1.numSteps() - s0.numSteps(), (t1 - t0) / 1e9,
                s1.scheduleNanos() - s0.scheduleNanos(), s1.executeNanos() - s0.executeNanos(),
                s1.sampleNanos() - s0.sampleNanos(), (cpu1 - cpu0) / 1e9,
                Math.max(0, (machineBusy1 - machineBusy0) - (cpu1 - cpu0) / 1e9));
    }

    private static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : 0;
    }

    /** Seconds of CPU time the whole machine has been busy (Linux /proc/stat, USER_HZ = 100), NaN elsewhere. */
    private static double machineBusySeconds() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5) busy += Long.parseLong(f[i]); // all but idle and iowait (steal included)
            }
            return busy / 100.0;
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    private static String need(String[] args, int i) {
        if (i >= args.length) usage("missing value after " + args[i - 1]);
        return args[i];
    }

    private static void usage(String message) {
        System.err.println("bench-batch: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }
}
