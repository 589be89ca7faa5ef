package io.basalt.engine;

import io.basalt.api.SamplingParams;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.engine.sampling.StopStringMatcher;
import io.basalt.kv.KvCacheManager;
import io.basalt.kv.KvCacheManagers;
import io.basalt.kv.KvStats;
import io.basalt.spi.Capabilities;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.StepOutput;
import io.basalt.tokenizer.IncrementalDecoder;
import io.basalt.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The continuous-batching engine. Each step applies queued commands, asks the {@link Scheduler} for a plan and
 * its batch, runs the batch on the {@link ModelRunner}, then samples and publishes ({@link StepCompleter}).
 *
 * <p>Threads. Each piece of state has one owner:
 * <ul>
 * <li>Callers, on any thread: {@link #submit}, {@link #abort}, {@link #stats}, {@link #close}. Submit, abort and
 *     close only queue commands (submit validates first, and throws for a bad request).
 * <li>The step thread owns the rest: the scheduler, the KV manager, the sequences, and every call into the runner
 *     ({@code execute} and {@code close}). It is the thread {@link #start()} creates; for an engine never started
 *     (tests, benchmarks, offline batches), it is the one thread that calls {@link #step()}, {@link #hasWork()}
 *     and {@link #runUntilIdle()} (calling them on a started engine throws). Stream listeners run on it, so they
 *     must hand work off and never block.
 * <li>The completion thread, one daemon per engine: it builds each finished request's result and completes the
 *     future, so callbacks chained on {@link RequestHandle#result()} (metrics, log lines) run there. When nobody
 *     started the engine, {@link #step()} returns only once the results of the requests it finished are
 *     complete, so whoever steps by hand can read them at once.
 * </ul>
 * {@link #close()} queues a Close command: the step thread runs it between steps (requests in flight end with
 * ABORT, then the runner is closed) and exits, and close() waits for that; so the runner is never closed while
 * {@code execute} runs. An engine that was never started runs the command on the caller's thread.
 */
public final class Engine implements AutoCloseable {
    private sealed interface Command {
        record Submit(RequestState state) implements Command { }

        record Abort(String requestId) implements Command { }

        record Close() implements Command { }
    }

    private static final Logger LOG = Logger.getLogger("basalt.engine");
    /** How long close() waits for a step in progress (a long prefill on a slow backend) and for the completions. */
    private static final long CLOSE_WAIT_SECONDS = 30;

    private final ModelRunner runner;
    private final Tokenizer tokenizer;
    private final KvCacheManager kv;
    private final Scheduler scheduler;
    private final StepCompleter completer;
    private final EngineConfig config;
    private final int maxModelLen;
    private final boolean onDeviceSampling;
    private final Grammars grammars;
    private final LinkedBlockingQueue<Command> commands = new LinkedBlockingQueue<>();
    private final ExecutorService completions = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("basalt-completions").daemon(true).factory());
    /** What RequestHandles hand their results to; notes the hand-off so that a step driven by hand can wait for it. */
    private final Executor completionHandoff = task -> {
        completionsQueued = true;
        completions.execute(task);
    };
    private final Object lifecycle = new Object();
    // Step-thread state.
    private final Map<String, RequestState> requests = new HashMap<>();
    private long nextSequenceId;
    private long nextArrival;
    private long numSteps;
    private long scheduleNanos;
    private long executeNanos;
    private long lastStepNanos;
    private boolean completionsQueued;
    private boolean stopped;
    // Shared.
    private volatile EngineStats stats;
    private volatile boolean closed;   // written under lifecycle, so no Submit is queued after the Close command
    private volatile Thread thread;    // written under lifecycle, before closed, and never again

    public Engine(ModelRunner runner, Tokenizer tokenizer, EngineConfig config) {
        this.runner = runner;
        this.tokenizer = tokenizer;
        this.config = config;
        Capabilities caps = runner.capabilities();
        this.maxModelLen = servedContext(runner, config);
        this.onDeviceSampling = caps.onDeviceSampling();
        this.grammars = new Grammars(tokenizer);
        this.kv = KvCacheManagers.forLayout(caps.kvLayout(), caps.numKvBlocks(), config.enablePrefixCaching());
        this.scheduler = new Scheduler(config, caps, kv);
        this.completer = new StepCompleter(scheduler, kv, maxModelLen, this::newSequence);
        this.stats = snapshot();
        LOG.info(() -> describe(runner, config, maxModelLen));
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
     * Queues a request. Bad requests (too long a prompt, ids outside the vocabulary, sampling parameters a
     * backend that samples on the device cannot apply) are rejected here with an {@link IllegalArgumentException},
     * before anything reaches the engine thread.
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
        if (onDeviceSampling) DeviceSampling.checkSupported(request.params());
        // A constraint compiles here, on the caller's thread waiting for the bounded compile pool (Grammars): the step
        // loop never waits for it, and a bad schema is this call's IllegalArgumentException (SchemaException).
        CompiledConstraint grammar = request.params().constraint().map(grammars::compile).orElse(null);
        RequestHandle handle = new RequestHandle(request.requestId(), request.params().n(), listener, completionHandoff);
        synchronized (lifecycle) {
            if (closed) throw new IllegalStateException("the engine is shut down");
            commands.add(new Command.Submit(new RequestState(request, handle, grammar)));
        }
        return handle;
    }

    public RequestHandle submit(EngineRequest request) { return submit(request, e -> { }); }

    /** Ends the request's choices with finish reason ABORT; their blocks are freed in the next step. */
    public void abort(String requestId) { commands.add(new Command.Abort(requestId)); }

    public EngineStats stats() { return stats; }

    /** Whether any request is queued, running or about to be submitted. Step thread only (see the class comment). */
    public boolean hasWork() {
        requireStepThread();
        return !stopped && (!commands.isEmpty() || scheduler.hasWork());
    }

    /** Starts the background step thread. */
    public Engine start() {
        synchronized (lifecycle) {
            if (closed) throw new IllegalStateException("the engine is shut down");
            if (thread != null) throw new IllegalStateException("already started");
            thread = Thread.ofPlatform().name("basalt-engine").daemon(true).start(this::loop);
        }
        return this;
    }

    private void loop() {
        while (!stopped) {
            try {
                if (!scheduler.hasWork()) {
                    apply(commands.take());  // idle: sleep until a command (Close included) arrives
                    continue;
                }
                step();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                shutdown();
                return;
            } catch (RuntimeException e) {
                // An engine bug must not leave every caller waiting forever: fail what is in flight, keep serving.
                LOG.log(Level.SEVERE, "engine step failed", e);
                failAll("the engine failed: " + e);
            }
        }
    }

    /** Runs one engine step; returns the number of tokens it computed (0 when idle). Step thread only. */
    public int step() {
        requireStepThread();
        if (stopped) throw new IllegalStateException("the engine is shut down");
        try {
            return runStep();
        } finally {
            if (thread == null) awaitCompletions();
        }
    }

    private int runStep() {
        for (Command c; !stopped && (c = commands.poll()) != null; ) apply(c);
        if (stopped) return 0;
        long t0 = System.nanoTime();
        Scheduler.Plan plan = scheduler.schedule();
        completer.handlePreempted(plan.preempted());
        long t1 = System.nanoTime();
        if (plan.isEmpty()) {
            publishStats(t1 - t0, 0, 0);
            return 0;
        }
        for (Scheduler.Scheduled s : plan.scheduled()) {
            Sequence seq = s.sequence();
            seq.request.handle.markScheduled(t1);
            // Constrained choices that sample this step: their masks fill on the mask pool while the forward pass runs.
            if (seq.grammar != null && s.startPosition() + s.numTokens() >= seq.numTokens()) seq.grammar.startFill(grammars.maskPool());
        }
        StepOutput output;
        try {
            output = runner.execute(plan.batch());
            StepCompleter.checkOutput(plan.batch(), output, onDeviceSampling, runner.spec().vocabSize());
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

    /** Steps until nothing is queued or running (tests, benchmarks, offline batches). Step thread only. */
    public void runUntilIdle() {
        while (hasWork()) step();
    }

    private void requireStepThread() {
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            throw new IllegalStateException("this engine runs its own step thread: step(), hasWork() and runUntilIdle() are for"
                    + " an engine that was not started");
        }
    }

    /** A step driven by hand returns once the results it finished are complete (the completion thread runs in order). */
    private void awaitCompletions() {
        if (!completionsQueued) return;
        completionsQueued = false;
        try {
            completions.submit(() -> { }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
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
            case Command.Close cl -> shutdown();
        }
    }

    /** The Close command, on the step thread: requests in flight end with ABORT, the runner closes, the loop ends. */
    private void shutdown() {
        if (stopped) return;
        stopped = true;
        try {
            for (RequestState s : new ArrayList<>(requests.values())) completer.abort(s);
            requests.clear();
            runner.close();
        } finally {
            completions.shutdown();  // what was handed off still runs
            grammars.close();
        }
    }

    private Sequence newSequence(RequestState state, int choiceIndex, int[] tokens, int numTokens) {
        SamplingParams p = state.request.params();
        int[] prompt = state.request.promptTokens();
        Sequence seq = new Sequence(nextSequenceId++, state, choiceIndex, tokens, numTokens, nextArrival++,
                new SequenceSampler(p, choiceIndex, prompt, tokenizer.eosIds()),
                new IncrementalDecoder(tokenizer, prompt[prompt.length - 1]), new StopStringMatcher(p.stop()),
                choiceGrammar(state, choiceIndex));
        state.sequences.add(seq);
        return seq;
    }

    /**
     * Choice 0 gets a fresh matcher; a forked choice starts where choice 0 did (no output yet), so it reuses its mask. A
     * tagged choice starts outside any region (nothing to fill or copy).
     */
    private ChoiceConstraint choiceGrammar(RequestState state, int choiceIndex) {
        int vocab = tokenizer.vocabSize();
        return switch (state.grammar) {
            case null -> null;
            case TaggedGrammar t -> new TaggedChoiceGrammar(t, vocab);
            case CompiledConstraint.Whole w -> {
                if (choiceIndex == 0 || state.sequences.isEmpty()
                        || !(state.sequences.getFirst().grammar instanceof ChoiceGrammar firstGrammar)) {
                    yield new ChoiceGrammar(w.grammar(), vocab);
                }
                yield state.sequences.getFirst().numGenerated() == 0 ? new ChoiceGrammar(w.grammar(), firstGrammar)
                        : new ChoiceGrammar(w.grammar(), vocab);
            }
        };
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

    /**
     * Stops the engine: requests still in flight end with ABORT, then the runner is closed, both on the step
     * thread (or, for an engine never started, on this one). Waits for that and for the completions it
     * produced; a step stuck in the runner is waited for up to {@value #CLOSE_WAIT_SECONDS} s, after which the
     * step thread closes the runner whenever the step returns. A second call does nothing.
     */
    @Override
    public void close() {
        Thread t;
        synchronized (lifecycle) {
            if (closed) return;
            closed = true;
            commands.add(new Command.Close());
            t = thread;
        }
        if (t == null) {
            for (Command c; !stopped && (c = commands.poll()) != null; ) apply(c);
        } else if (t == Thread.currentThread()) {
            return;  // a listener closing its own engine: the loop runs the command after this step
        } else {
            try {
                t.join(TimeUnit.SECONDS.toMillis(CLOSE_WAIT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                LOG.warning("the engine's step thread is still inside the runner after " + CLOSE_WAIT_SECONDS
                        + " s; it closes the runner when that step returns");
                return;
            }
        }
        try {
            completions.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
