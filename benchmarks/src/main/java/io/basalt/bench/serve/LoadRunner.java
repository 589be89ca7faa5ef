package io.basalt.bench.serve;

import io.basalt.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives one run: warm-up requests first (sent, awaited, not recorded), then every prompt at its
 * arrival offset, each on a virtual thread, at most maxConcurrency in flight (later arrivals wait in
 * the client, and their records show it: startS after scheduledS).
 */
public final class LoadRunner {
    /** How tokens are counted: by the benchmark's tokenizer, or by the server's usage (chunks when it sends none). */
    public enum TokenSource { TOKENIZER, USAGE }

    /** Told after every measured request (the progress bar). */
    public interface Progress {
        Progress NONE = r -> { };

        void done(RequestRecord record);
    }

    /** A finished run: t0Nanos is the System.nanoTime the offsets count from. */
    public record Run(long t0Nanos, double durationS, List<RequestRecord> records) { }

    /**
     * What the run needs beyond the client.
     *
     * @param maxConcurrency 0 for no limit
     * @param warmups        requests sent (from the start of the dataset) before the measured run; when every one
     *                       fails the run stops there ({@link Errors.RunFailed})
     */
    public record Plan(double requestRate, double burstiness, long seed, int maxConcurrency, int warmups, TokenSource tokenSource) {
        public Plan {
            if (maxConcurrency < 0) throw new IllegalArgumentException("--max-concurrency must be >= 1");
            if (warmups < 0) throw new IllegalArgumentException("--warmup must be >= 0");
        }
    }

    private LoadRunner() {}

    /** @param afterWarmup runs between the warm-up and the measured run (the /metrics "before" scrape) */
    public static Run run(StreamClient client, List<Prompt> prompts, Tokenizer tokenizer, Plan plan, Progress progress,
                          Runnable afterWarmup) {
        if (plan.tokenSource() == TokenSource.TOKENIZER && tokenizer == null) {
            throw new IllegalArgumentException("counting tokens with the tokenizer needs --tokenizer");
        }
        double[] offsets = Arrivals.offsets(prompts.size(), plan.requestRate(), plan.burstiness(), plan.seed());
        int permits = plan.maxConcurrency() > 0 ? plan.maxConcurrency() : Integer.MAX_VALUE;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            if (plan.warmups() > 0 && !prompts.isEmpty()) {
                Semaphore slots = new Semaphore(permits);
                List<Future<StreamClient.Exchange>> warm = new ArrayList<>();
                for (int i = 0; i < plan.warmups(); i++) {
                    Prompt p = prompts.get(i % prompts.size());
                    acquire(slots);
                    warm.add(pool.submit(() -> {
                        try {
                            return client.send(p.text(), p.outputTokens());
                        } finally {
                            slots.release();
                        }
                    }));
                }
                List<StreamClient.Exchange> warmed = new ArrayList<>();
                for (Future<StreamClient.Exchange> f : warm) warmed.add(join(f));
                // As vLLM's initial test request: when not one warm-up worked (wrong model, wrong URL), the
                // measured run would only repeat the same error N times.
                if (warmed.stream().allMatch(x -> x.error() != null)) {
                    throw new Errors.RunFailed((warmed.size() == 1 ? "the warm-up request failed" : "all " + warmed.size()
                            + " warm-up requests failed") + ", so nothing was measured", Errors.ofExchanges(warmed));
                }
            }
            afterWarmup.run();
            Semaphore slots = new Semaphore(permits);
            List<Future<RequestRecord>> futures = new ArrayList<>(prompts.size());
            long t0 = System.nanoTime();
            for (int i = 0; i < prompts.size(); i++) {
                long due = t0 + (long) (offsets[i] * 1e9);
                for (long wait; (wait = due - System.nanoTime()) > 0; ) LockSupport.parkNanos(wait);
                acquire(slots);
                int index = i;
                Prompt p = prompts.get(i);
                futures.add(pool.submit(() -> {
                    try {
                        RequestRecord r = record(index, offsets[index], t0, p, client.send(p.text(), p.outputTokens()), tokenizer,
                                plan.tokenSource());
                        progress.done(r);
                        return r;
                    } finally {
                        slots.release();
                    }
                }));
            }
            List<RequestRecord> records = new ArrayList<>(futures.size());
            for (Future<RequestRecord> f : futures) records.add(join(f));
            double duration = records.stream().mapToDouble(RequestRecord::endS).max().orElse(0);
            return new Run(t0, duration, records);
        }
    }

    /** Timings relative to t0 and the request's own start; tokens counted as the plan says. */
    static RequestRecord record(int index, double scheduledS, long t0, Prompt prompt, StreamClient.Exchange x, Tokenizer tokenizer,
                                TokenSource source) {
        long[] c = x.chunkNanos();
        Double ttft = c.length > 0 ? (c[0] - x.startNanos()) / 1e6 : null;
        double[] itl = new double[Math.max(0, c.length - 1)];
        for (int i = 1; i < c.length; i++) itl[i - 1] = (c[i] - c[i - 1]) / 1e6;
        int promptTokens, outputTokens;
        if (source == TokenSource.TOKENIZER) {
            promptTokens = prompt.promptTokens() >= 0 ? prompt.promptTokens() : tokenizer.encode(prompt.text()).length;
            outputTokens = x.text().isEmpty() ? 0 : tokenizer.encode(x.text()).length;
        } else {
            promptTokens = x.usagePromptTokens() >= 0 ? x.usagePromptTokens() : Math.max(0, prompt.promptTokens());
            outputTokens = x.usageCompletionTokens() >= 0 ? x.usageCompletionTokens() : c.length;
        }
        return new RequestRecord(index, scheduledS, (x.startNanos() - t0) / 1e9, promptTokens, outputTokens, x.usagePromptTokens(),
                x.usageCompletionTokens(), c.length, ttft, (x.endNanos() - x.startNanos()) / 1e6, itl, x.error(), x.errorDetail());
    }

    private static void acquire(Semaphore s) {
        try {
            s.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static <T> T join(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a request failed inside the client: " + e.getCause(), e.getCause());
        }
    }
}
