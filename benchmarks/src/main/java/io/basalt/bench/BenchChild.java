package io.basalt.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.backend.cpu.model.KvCache;
import io.basalt.backend.cpu.model.Model;
import io.basalt.backend.cpu.model.ModelLoader;
import io.basalt.backend.cpu.model.Weights;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.EngineStats;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormats;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.LoadOptions;
import io.basalt.spi.Quantization;
import io.basalt.tokenizer.Tokenizer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Measures one model in a JVM of its own (so its peak RSS is its own), as {@link Bench} asks: first
 * token from JVM start, single-stream decode, prefill, then aggregate decode through the
 * continuous-batching engine. Progress goes to stderr; the result is one line on stdout,
 * {@value #RESULT_PREFIX} followed by the {@link BenchReport.ModelResult} as JSON, printed even when
 * a phase fails (with what was measured up to then and the error).
 */
public final class BenchChild {
    private BenchChild() {}

    static final String RESULT_PREFIX = "BASALT_BENCH_RESULT ";
    /** Prompt of the first-token and single-stream decode runs. */
    static final int DECODE_PROMPT = 8;
    /**
     * Prompt of each sequence of an aggregate run: one token, so the prompts of 64 sequences cost one
     * decode-sized step even on the 1B model (decode throughput does not depend on the prompt).
     */
    static final int BATCH_PROMPT = 1;
    /** Prefills cheaper than this warm up with the full prompt; dearer ones with {@link #SHORT_WARMUP} tokens. */
    private static final double FULL_WARMUP_FLOPS = 1e11;
    private static final int SHORT_WARMUP = 32;
    /** Single-stream warm-up: rounds of at most this many steps, for a second or minSeconds / 4 if longer. */
    private static final int DECODE_WARMUP_STEPS = 8;
    /** Untimed engine steps before an aggregate window: up to this many, fewer when a step is slow. */
    private static final int MAX_WARM_STEPS = 3;

    /**
     * What to measure.
     *
     * @param dtype            the {@code LoadOptions} storage to load with (its --dtype form)
     * @param quantize         the {@code LoadOptions} quantization (its --quantize form)
     * @param steps            single-stream timed steps per round; the most steps of an aggregate window
     * @param minSeconds       decode and prefill repeat rounds until this much time was measured
     * @param windowSeconds    an aggregate window ends after this long (and at least 2 steps)
     * @param prefillSeconds   a prefill projected (from its warm-up) to take longer is shortened to fit, in steps of 64 tokens
     */
    public record Spec(String name, String path, String dtype, String quantize, int steps, List<Integer> concurrency,
                       int prompt, double minSeconds, double windowSeconds, double prefillSeconds) { }

    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        Spec spec = JSON.readValue(args[0], Spec.class);
        BenchReport.ModelResult result = measure(spec);
        System.out.println(RESULT_PREFIX + JSON.writeValueAsString(result));
        System.out.flush();
        System.exit(0); // the kernel worker pool's threads must not keep the JVM alive
    }

    /** Measures in this JVM (the parent runs it in a fresh one); never throws: failures are the result's error. */
    static BenchReport.ModelResult measure(Spec spec) { return new Run(spec).run(); }

    /** One model's measurements; fields fill in phase by phase so a failure still reports the earlier ones. */
    private static final class Run {
        final Spec spec;
        String architecture = "?";
        String storage = "?";
        Double bytesPerParam;
        long params;
        ModelShape shape;
        Double loadSeconds, ttftSeconds;
        Long ttftDiskFaults;
        BenchReport.Decode decode;
        BenchReport.Prefill prefill;
        final List<BenchReport.Aggregate> aggregate = new ArrayList<>();

        Run(Spec spec) { this.spec = spec; }

        BenchReport.ModelResult run() {
            String error = null;
            Model model = null;
            Engine engine = null;
            try {
                Path path = Path.of(spec.path());
                LoadOptions options = new LoadOptions(LoadOptions.parseStorage(spec.dtype()), LoadOptions.parseQuantization(spec.quantize()));
                long t0 = System.nanoTime();
                model = ModelLoader.load(path, options);
                loadSeconds = (System.nanoTime() - t0) / 1e9;
                int vocab = model.info().vocabSize();
                int[] prompt = promptIds(DECODE_PROMPT, vocab, 1);
                KvCache first = model.newCache();
                int token = SequenceSampler.argmax(model.forward(first, prompt, Model.Logits.LAST)[0]);
                ttftSeconds = (System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime()) / 1e3;
                ttftDiskFaults = diskFaults();
                log("first token (id %d) %.2f s after JVM start; load %.2f s; %s page faults read from disk", token, ttftSeconds,
                        loadSeconds, ttftDiskFaults == null ? "?" : ttftDiskFaults);
                // A large model's first start packs its weights (and writes the weight cache) in the background after
                // the first token: the figures below are the model's once that is over.
                long w0 = System.nanoTime();
                Weights.awaitBackgroundPacking();
                double waited = (System.nanoTime() - w0) / 1e9;
                if (waited >= 0.1) log("waited %.1f s for background weight packing before the timed figures", waited);

                architecture = model.info().architecture().name().toLowerCase(Locale.ROOT);
                params = model.info().numParameters();
                describeStorage(path, options);
                try {
                    shape = ModelShape.of(model);
                } catch (IllegalArgumentException e) {
                    log("%s: figures only, no bytes/FLOP accounting", e.getMessage());
                }

                decode = decode(model, prompt);
                prefill = prefill(model);
                if (!spec.concurrency().isEmpty()) {
                    engine = engine(model);
                    // an untimed window first: the engine's own path (paged KV, scheduler, sampler) gets compiled
                    window(engine, spec.concurrency().stream().mapToInt(Integer::intValue).min().orElseThrow(), false);
                    for (int c : spec.concurrency()) aggregate.add(window(engine, c, true));
                }
            } catch (Throwable t) {
                error = t.toString();
                t.printStackTrace();
            } finally {
                if (engine != null) engine.close(); // closes the runner, which closes the model
                else if (model != null) model.close();
            }
            return new BenchReport.ModelResult(spec.name(), spec.path(), architecture, storage, bytesPerParam, params,
                    shape == null ? null : shape.matrixParams(),
                    shape == null || bytesPerParam == null ? null : shape.weightBytesPerToken(bytesPerParam),
                    loadSeconds, ttftSeconds, ttftDiskFaults, decode, prefill, List.copyOf(aggregate), peakRssBytes(), error);
        }

        /**
         * The storage label and bytes per matrix parameter: as requested by the load options, or for
         * AUTO the file's own, averaged over its rank-2 tensors (by elements, so mixed GGUFs count right).
         */
        void describeStorage(Path path, LoadOptions options) {
            if (options.quantize() == Quantization.Q8_0) {
                storage = "q8_0";
                bytesPerParam = DType.Q8_0.blockBytes() / (double) DType.Q8_0.blockSize();
                return;
            }
            switch (options.storage()) {
                case FP32 -> { storage = "fp32"; bytesPerParam = 4.0; return; }
                case BF16 -> { storage = "bf16"; bytesPerParam = 2.0; return; }
                case F16 -> { storage = "f16"; bytesPerParam = 2.0; return; }
                case AUTO -> { }
            }
            try (Checkpoint checkpoint = ModelFormats.open(path)) {
                Map<DType, Long> elements = new HashMap<>();
                long bytes = 0, count = 0;
                for (TensorInfo t : checkpoint.tensors().values()) {
                    if (t.rank() != 2) continue;
                    elements.merge(t.dtype(), t.numElements(), Long::sum);
                    bytes += t.dtype().byteSize(t.numElements());
                    count += t.numElements();
                }
                if (count == 0) return;
                bytesPerParam = (double) bytes / count;
                storage = elements.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey().name()
                        .toLowerCase(Locale.ROOT).replace("f32", "fp32");
                if (elements.size() > 1) storage += "+";
            }
        }

        /** Greedy single-stream decode: short untimed rounds, then timed rounds until minSeconds. */
        BenchReport.Decode decode(Model model, int[] prompt) {
            int steps = Math.min(spec.steps(), model.info().maxPositions() - prompt.length);
            long w0 = System.nanoTime();
            do {
                decodeRound(model, prompt, Math.min(steps, DECODE_WARMUP_STEPS));
            } while ((System.nanoTime() - w0) / 1e9 < Math.max(1.0, spec.minSeconds() / 4)); // C2 needs about a second
            double seconds = 0;
            int rounds = 0;
            while (rounds == 0 || (seconds < spec.minSeconds() && rounds < 50)) {
                seconds += decodeRound(model, prompt, steps);
                rounds++;
            }
            double tokPerSec = (double) steps * rounds / seconds;
            double ctx = prompt.length + (steps + 1) / 2.0;
            var d = new BenchReport.Decode(prompt.length, steps, rounds, seconds, tokPerSec, ctx,
                    bytesPerParam == null || shape == null ? null : shape.decodeBytesPerToken(bytesPerParam, ctx),
                    shape == null ? null : shape.decodeFlopsPerToken(ctx));
            log("decode: %.2f tok/s (%d × %d steps in %.2f s)", tokPerSec, rounds, steps, seconds);
            return d;
        }

        private static double decodeRound(Model model, int[] prompt, int steps) {
            KvCache cache = model.newCache();
            float[] logits = model.forward(cache, prompt, Model.Logits.LAST)[0];
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                logits = model.forward(cache, new int[] {SequenceSampler.argmax(logits)}, Model.Logits.LAST)[0];
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            for (float f : logits) {
                if (!Float.isFinite(f)) throw new IllegalStateException("decode produced a non-finite logit");
            }
            return seconds;
        }

        /**
         * A fresh-cache prefill of the prompt (last logits only) after a warm-up prefill; shortened when
         * the warm-up's speed says it would take longer than prefillSeconds.
         */
        BenchReport.Prefill prefill(Model model) {
            int requested = Math.min(spec.prompt(), model.info().maxPositions());
            int[] ids = promptIds(requested, model.info().vocabSize(), 2);
            int warm = cost(requested) < FULL_WARMUP_FLOPS ? requested : Math.min(requested, SHORT_WARMUP);
            long w0 = System.nanoTime();
            model.forward(model.newCache(), java.util.Arrays.copyOf(ids, warm), Model.Logits.LAST);
            double secondsPerFlop = (System.nanoTime() - w0) / 1e9 / cost(warm); // pessimistic: the warm-up also compiles
            int tokens = requested;
            while (tokens > 64 && secondsPerFlop * cost(tokens) > spec.prefillSeconds()) tokens -= 64;
            if (tokens < requested) {
                log("prefill of %d tokens projected at %.0f s: measuring %d tokens instead", requested,
                        secondsPerFlop * cost(requested), tokens);
                ids = java.util.Arrays.copyOf(ids, tokens);
            }
            if (warm < tokens) {
                // The short probe leaves C2 half done: in a fresh JVM gpt2's first 512-token prefill ran
                // at 210-370 tok/s and the next ones near 1000, and with only the probe untimed the
                // measured rounds averaged 640-810. So one untimed round at the measured size, as a
                // server is after its first long prompts.
                model.forward(model.newCache(), ids, Model.Logits.LAST);
                warm = tokens;
            }
            double seconds = 0;
            int rounds = 0;
            while (rounds == 0 || (seconds < spec.minSeconds() && rounds < 20)) {
                KvCache cache = model.newCache();
                long t0 = System.nanoTime();
                model.forward(cache, ids, Model.Logits.LAST);
                seconds += (System.nanoTime() - t0) / 1e9;
                rounds++;
            }
            double tokPerSec = (double) tokens * rounds / seconds;
            log("prefill %d: %.1f tok/s (%d round(s), %.2f s; untimed warm-up of %d tokens first)", tokens, tokPerSec, rounds,
                    seconds, warm);
            return new BenchReport.Prefill(tokens, requested, warm, rounds, seconds, tokPerSec,
                    shape == null ? null : shape.prefillFlops(tokens));
        }

        private double cost(int tokens) { return shape != null ? shape.prefillFlops(tokens) : 2.0 * params * tokens; }

        int maxWindowSteps() { return Math.max(2, spec.steps()); }

        /** The engine over this very model, its KV pool sized for the largest concurrency's window. */
        Engine engine(Model model) {
            int maxC = spec.concurrency().stream().mapToInt(Integer::intValue).max().orElseThrow();
            int positions = BATCH_PROMPT + 1 + MAX_WARM_STEPS + maxWindowSteps() + 1;
            if (positions > model.info().maxPositions()) {
                throw new IllegalArgumentException("an aggregate window of " + positions + " positions exceeds the context of "
                        + model.info().maxPositions() + "; lower --steps");
            }
            long blocksPerSeq = (positions + CpuModelRunner.BLOCK_SIZE - 1) / CpuModelRunner.BLOCK_SIZE + 1;
            long kvBytes = maxC * blocksPerSeq * CpuModelRunner.BLOCK_SIZE * CpuBackend.kvBytesPerToken(model);
            CpuModelRunner runner = CpuBackend.runner(model, Math.max(kvBytes, CpuBackend.kvBytesPerToken(model) * CpuModelRunner.BLOCK_SIZE));
            // The pool holds the window, not the model's whole context: serve the window (the engine refuses less).
            EngineConfig config = EngineConfig.defaults().withMaxNumSeqs(maxC)
                    .withMaxNumBatchedTokens(Math.max(2048, maxC * BATCH_PROMPT)).withKvCacheMemoryBytes(kvBytes)
                    .withMaxModelLen(positions);
            return new Engine(runner, tokenizer(model), config);
        }

        /**
         * Submits c greedy requests at once and steps the engine itself: the prompts (one prefill step),
         * a few untimed decode steps, then the timed window: at least 2 steps, up to windowSeconds or
         * maxWindowSteps. The requests are then aborted.
         */
        BenchReport.Aggregate window(Engine engine, int c, boolean report) {
            int maxTokens = 1 + MAX_WARM_STEPS + maxWindowSteps() + 1; // no sequence finishes inside the window
            SamplingParams params = SamplingParams.builder().temperature(0f).maxTokens(maxTokens).ignoreEos(true).build();
            EngineStats start = engine.stats();
            SplittableRandom random = new SplittableRandom(c);
            List<RequestHandle> handles = new ArrayList<>(c);
            int vocab = engine.runner().spec().vocabSize();
            for (int i = 0; i < c; i++) {
                int[] prompt = promptIds(BATCH_PROMPT, vocab, random.nextLong());
                handles.add(engine.submit(new EngineRequest("bench-" + c + "-" + report + "-" + i, prompt, params, 0)));
            }
            long promptTarget = start.numPromptTokensComputed() + (long) c * BATCH_PROMPT;
            while (engine.stats().numPromptTokensComputed() < promptTarget) {
                if (!engine.hasWork()) throw new IllegalStateException("engine went idle before the prompts were computed");
                engine.step();
            }
            int warm = 0;
            long w0 = System.nanoTime();
            do {
                engine.step();
                warm++;
            } while (warm < MAX_WARM_STEPS && System.nanoTime() - w0 < 500_000_000L);

            EngineStats s0 = engine.stats();
            double busy0 = machineBusySeconds();
            long cpu0 = processCpuNanos();
            long t0 = System.nanoTime();
            int steps = 0;
            do {
                engine.step();
                steps++;
            } while (steps < 2 || ((System.nanoTime() - t0) / 1e9 < spec.windowSeconds() && steps < maxWindowSteps()));
            double seconds = (System.nanoTime() - t0) / 1e9;
            double other = Math.max(0, machineBusySeconds() - busy0 - (processCpuNanos() - cpu0) / 1e9) / seconds;
            EngineStats s1 = engine.stats();
            for (RequestHandle h : handles) engine.abort(h.requestId());
            while (engine.hasWork()) engine.step();

            long generated = s1.numGeneratedTokens() - s0.numGeneratedTokens();
            if (generated != (long) steps * c || s1.numPreemptions() != start.numPreemptions()) {
                log("warning: C=%d generated %d tokens in %d steps (%d preemptions)", c, generated, steps,
                        s1.numPreemptions() - start.numPreemptions());
            }
            double ctx = BATCH_PROMPT + warm + (steps + 1) / 2.0;
            double tokPerSec = generated / seconds;
            log("C=%d%s: %.1f tok/s (%d steps in %.2f s)", c, report ? "" : " (warm-up)", tokPerSec, steps, seconds);
            return new BenchReport.Aggregate(c, BATCH_PROMPT, steps, generated, seconds, tokPerSec, ctx,
                    shape == null ? null : shape.decodeFlopsPerToken(ctx),
                    bytesPerParam == null || shape == null ? null : shape.weightBytesPerToken(bytesPerParam) + c * shape.kvBytes(ctx),
                    seconds * 1e3 / steps, (s1.executeNanos() - s0.executeNanos()) / 1e6 / steps, other);
        }

        /** The model's tokenizer, or ids-only for a model that has none (the synthetic Llama): the text is noise anyway. */
        static Tokenizer tokenizer(Model model) {
            try {
                return ModelTokenizer.forModel(model.info(), null);
            } catch (RuntimeException e) {
                return new IdsOnlyTokenizer(model.info().vocabSize());
            }
        }

        void log(String format, Object... args) {
            System.err.println("  [" + spec.name() + "] " + String.format(Locale.ROOT, format, args));
        }
    }

    /** Fixed pseudo-random ids from 3 up (clear of llama2.c's specials), below the last id (GPT-2's only special). */
    static int[] promptIds(int n, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = 3 + random.nextInt(Math.max(1, vocab - 4));
        return ids;
    }

    /** VmHWM (peak resident set) from /proc/self/status, null where there is none. */
    static Long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (Exception e) {
            // not Linux
        }
        return null;
    }

    /** This process's page faults that needed I/O (majflt, field 12 of /proc/self/stat), null where there is none. */
    static Long diskFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+"); // fields from 3 (state) on
            return Long.parseLong(f[12 - 3]);
        } catch (Exception e) {
            return null; // not Linux
        }
    }

    static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : 0;
    }

    /** Seconds the whole machine has been busy (Linux /proc/stat, USER_HZ = 100; all but idle and iowait), NaN elsewhere. */
    static double machineBusySeconds() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5) busy += Long.parseLong(f[i]);
            }
            return busy / 100.0;
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    /** For models without a tokenizer: ids only, no text (the engine still needs a tokenizer for EOS and deltas). */
    private record IdsOnlyTokenizer(int vocabSize) implements Tokenizer {
        @Override public int[] encode(String text) { throw new UnsupportedOperationException("this model has no tokenizer"); }

        @Override public int[] encodeWithSpecials(String text) { return encode(text); }

        @Override public int bosId() { return 1; }

        @Override public int[] eosIds() { return new int[] {2}; }

        @Override public byte[] decodeBytes(int previousId, int id) { return new byte[0]; }

        @Override public String decode(int[] ids) { return ""; }
    }
}
