package io.basalt.engine;

import io.basalt.api.SamplingParams;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.engine.sampling.StopStringMatcher;
import io.basalt.kv.KvCacheManager;
import io.basalt.kv.KvCacheManagers;
import io.basalt.kv.KvStats;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.StepOutput;
import io.basalt.tokenizer.IncrementalDecoder;
import io.basalt.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The continuous-batching engine. {@link #submit} and {@link #abort} may be called from any thread;
 * they enqueue commands. One thread runs {@link #step()}: apply commands, ask the {@link Scheduler}
 * for a plan, run it on the {@link ModelRunner}, then sample and publish ({@link StepCompleter}).
 * Either call {@link #start()} for a background step thread, or drive {@link #step()} yourself
 * (tests, benchmarks) — not both.
 */
public final class Engine implements AutoCloseable {
    private sealed interface Command {
        record Submit(RequestState state) implements Command { }

        record Abort(String requestId) implements Command { }
    }

    private final ModelRunner runner;
    private final Tokenizer tokenizer;
    private final KvCacheManager kv;
    private final Scheduler scheduler;
    private final StepCompleter completer;
    private final EngineConfig config;
    private final int maxModelLen;
    private final LinkedBlockingQueue<Command> commands = new LinkedBlockingQueue<>();
    private final Map<String, RequestState> requests = new HashMap<>();
    private long nextSequenceId;
    private long nextArrival;
    private long numSteps;
    private long scheduleNanos;
    private long executeNanos;
    private long lastStepNanos;
    private volatile EngineStats stats;
    private volatile boolean closed;
    private Thread thread;

    public Engine(ModelRunner runner, Tokenizer tokenizer, EngineConfig config) {
        this.runner = runner;
        this.tokenizer = tokenizer;
        this.config = config;
        Capabilities caps = runner.capabilities();
        this.maxModelLen = servedContext(runner, config);
        this.kv = KvCacheManagers.forLayout(caps.kvLayout(), caps.numKvBlocks(), config.enablePrefixCaching());
        this.scheduler = new Scheduler(config, caps, kv);
        this.completer = new StepCompleter(scheduler, kv, maxModelLen, this::newSequence);
        this.stats = snapshot();
        java.util.logging.Logger.getLogger("basalt.engine").info(() -> describe(runner, config, maxModelLen));
    }

    /** What the engine was given, in one line: the KV capacity in contexts, prefix caching, the scheduler's limits. */
    static String describe(ModelRunner runner, EngineConfig config, int maxModelLen) {
        Capabilities caps = runner.capabilities();
        String kv = switch (caps.kvLayout()) {
            case io.basalt.spi.KvLayout.Paged p -> {
                long tokens = (long) caps.numKvBlocks() * p.blockSize();
                yield "KV cache " + Bytes.describe(tokens * runner.spec().kvBytesPerToken()) + ": " + caps.numKvBlocks() + " blocks of "
                        + p.blockSize() + " tokens = " + tokens + " tokens, " + tokens / maxModelLen + " full context(s) of " + maxModelLen;
            }
            case io.basalt.spi.KvLayout.Slots sl -> "KV slots: " + sl.maxSequences() + " of " + sl.maxLength() + " tokens, context "
                    + maxModelLen;
        };
        return kv + "; prefix caching " + (config.enablePrefixCaching() ? "on" : "off") + "; up to " + config.maxNumSeqs()
                + " sequences and " + config.maxNumBatchedTokens() + " tokens a step";
    }

    /**
     * The context served: the model's (or a SLOTS backend's slot length), or less with {@code --max-model-len}. A KV
     * cache that cannot hold one whole context is refused here, as vLLM refuses it: accepting it would end long
     * generations early with finish_reason "length" and no word of why.
     */
    private static int servedContext(ModelRunner runner, EngineConfig config) {
        Capabilities caps = runner.capabilities();
        int model = runner.spec().maxPositions();
        if (caps.kvLayout() instanceof io.basalt.spi.KvLayout.Slots s) model = Math.min(model, s.maxLength());
        if (config.maxModelLen() > model) {
            throw new IllegalArgumentException("--max-model-len " + config.maxModelLen() + " is longer than this model's context of "
                    + model + " tokens");
        }
        int len = config.maxModelLen() > 0 ? config.maxModelLen() : model;
        if (caps.kvLayout() instanceof io.basalt.spi.KvLayout.Paged p) {
            long capacity = (long) caps.numKvBlocks() * p.blockSize();
            if (capacity < len) {
                long perToken = runner.spec().kvBytesPerToken();
                long needed = ((len + p.blockSize() - 1L) / p.blockSize()) * p.blockSize() * perToken;
                throw new IllegalArgumentException("the KV cache holds " + capacity + " tokens (" + caps.numKvBlocks() + " blocks of "
                        + p.blockSize() + "), fewer than one full context of " + len + " tokens, which needs "
                        + Bytes.describe(needed) + " (" + perToken + " bytes a token): raise --kv-cache-memory to at least "
                        + Bytes.describe(needed) + ", or lower --max-model-len to " + capacity + " or less");
            }
        }
        return len;
    }

    /** The longest prompt + output served ({@link EngineConfig#maxModelLen()}, or the model's context). */
    public int maxModelLen() { return maxModelLen; }

    public EngineConfig config() { return config; }

    public ModelRunner runner() { return runner; }

    public Tokenizer tokenizer() { return tokenizer; }

    /**
     * Queues a request. Bad requests (too long a prompt, ids outside the vocabulary) are rejected
     * here with an {@link IllegalArgumentException}, before anything reaches the engine thread.
     */
    public RequestHandle submit(EngineRequest request, Consumer<StreamEvent> listener) {
        if (closed) throw new IllegalStateException("the engine is shut down");
        int[] prompt = request.promptTokens();
        if (prompt.length >= maxModelLen) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens; this model's context length is "
                    + maxModelLen + " (prompt + at least one generated token)");
        }
        int vocab = runner.spec().vocabSize();
        for (int t : prompt) {
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + vocab + ")");
        }
        // The n choices run side by side; more than max_num_seqs (or than the SLOTS backend has slots) could
        // never be admitted and would block the head of the waiting queue forever.
        if (request.params().n() > scheduler.maxNumSeqs()) {
            throw new IllegalArgumentException("n = " + request.params().n() + " exceeds the " + scheduler.maxNumSeqs()
                    + " sequences this engine runs at once (--max-num-seqs)");
        }
        RequestHandle handle = new RequestHandle(request.requestId(), request.params().n(), listener);
        commands.add(new Command.Submit(new RequestState(request, handle)));
        return handle;
    }

    public RequestHandle submit(EngineRequest request) { return submit(request, e -> { }); }

    /** Ends the request's choices with finish reason ABORT; their blocks are freed in the next step. */
    public void abort(String requestId) { commands.add(new Command.Abort(requestId)); }

    public EngineStats stats() { return stats; }

    /** Whether any request is queued, running or about to be submitted. */
    public boolean hasWork() { return !commands.isEmpty() || scheduler.hasWork(); }

    /** Starts the background step thread. */
    public synchronized Engine start() {
        if (thread != null) throw new IllegalStateException("already started");
        thread = Thread.ofPlatform().name("basalt-engine").daemon(true).start(this::loop);
        return this;
    }

    private void loop() {
        while (!closed) {
            try {
                if (!hasWork()) {
                    Command c = commands.poll(50, TimeUnit.MILLISECONDS);
                    if (c != null) apply(c);
                    continue;
                }
                step();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // An engine bug must not leave every caller waiting forever: fail what is in flight, keep serving.
                java.util.logging.Logger.getLogger("basalt.engine").log(java.util.logging.Level.SEVERE, "engine step failed", e);
                failAll("the engine failed: " + e);
            }
        }
    }

    /** Runs one engine step; returns the number of tokens it computed (0 when idle). */
    public int step() {
        for (Command c; (c = commands.poll()) != null; ) apply(c);
        long t0 = System.nanoTime();
        Scheduler.Plan plan = scheduler.schedule();
        completer.handlePreempted(plan.preempted());
        long t1 = System.nanoTime();
        if (plan.isEmpty()) {
            publishStats(t1 - t0, 0, 0);
            return 0;
        }
        List<SequenceInput> inputs = new ArrayList<>(plan.scheduled().size());
        for (Scheduler.Scheduled s : plan.scheduled()) {
            Sequence seq = s.sequence();
            seq.request.handle.markScheduled(t1);
            int end = s.startPosition() + s.numTokens();
            inputs.add(new SequenceInput(seq.id, seq.tokensRange(s.startPosition(), end), s.startPosition(),
                    kv.blockTable(seq.id), end == seq.numTokens()));
        }
        Batch batch = new Batch(kv.takePendingCopies(), inputs, plan.bucket(), Batch.HiddenStates.NONE);
        StepOutput output;
        try {
            output = runner.execute(batch);
        } catch (RuntimeException e) {
            completer.fail(plan, "the backend failed: " + e);
            publishStats(t1 - t0, System.nanoTime() - t1, 0);
            return 0;
        }
        long t2 = System.nanoTime();
        completer.complete(plan, output);
        requests.values().removeIf(RequestState::isFinished);
        publishStats(t1 - t0, t2 - t1, plan.numTokens());
        return plan.numTokens();
    }

    /** Steps until nothing is queued or running (tests, benchmarks, offline batches). */
    public void runUntilIdle() {
        while (hasWork()) step();
    }

    private void failAll(String message) {
        for (RequestState s : new ArrayList<>(requests.values())) completer.failUnstarted(s, message);
        requests.clear();
    }

    private void apply(Command c) {
        switch (c) {
            case Command.Submit s -> {
                RequestState state = s.state();
                if (requests.containsKey(state.request.requestId())) {
                    completer.failUnstarted(state, "duplicate request id '" + state.request.requestId() + "'");
                    return;
                }
                requests.put(state.request.requestId(), state);
                Sequence first = newSequence(state, 0, state.request.promptTokens(), state.request.numPromptTokens());
                scheduler.addWaiting(first);
            }
            case Command.Abort a -> {
                RequestState state = requests.remove(a.requestId());
                if (state != null) completer.abort(state);
            }
        }
    }

    private Sequence newSequence(RequestState state, int choiceIndex, int[] tokens, int numTokens) {
        SamplingParams p = state.request.params();
        int[] prompt = state.request.promptTokens();
        Sequence seq = new Sequence(nextSequenceId++, state, choiceIndex, tokens, numTokens, nextArrival++,
                new SequenceSampler(p, choiceIndex, prompt, tokenizer.eosIds()),
                new IncrementalDecoder(tokenizer, prompt[prompt.length - 1]), new StopStringMatcher(p.stop()));
        state.sequences.add(seq);
        return seq;
    }

    private void publishStats(long schedule, long execute, int tokens) {
        numSteps += tokens > 0 ? 1 : 0;
        scheduleNanos += schedule;
        executeNanos += execute;
        if (tokens > 0) lastStepNanos = schedule + execute + completer.lastSampleNanos();
        stats = snapshot();
    }

    private EngineStats snapshot() {
        KvStats k = kv.stats();
        return new EngineStats(scheduler.numWaiting(), scheduler.numRunning(), k.usedBlocks(), k.totalBlocks(),
                scheduler.prefixQueryTokens(), scheduler.prefixHitTokens(), numSteps, completer.numPromptTokensComputed(),
                completer.numGeneratedTokens(), scheduler.numPreemptions(), scheduleNanos, executeNanos,
                completer.sampleNanos(), lastStepNanos, kv.numLiveSequences());
    }

    /** Stops the step thread; requests still in flight end with ABORT. */
    @Override
    public void close() {
        closed = true;
        Thread t = thread;
        if (t != null) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Command c; (c = commands.poll()) != null; ) apply(c);
        for (RequestState s : new ArrayList<>(requests.values())) completer.abort(s);
        requests.clear();
        runner.close();
    }
}
