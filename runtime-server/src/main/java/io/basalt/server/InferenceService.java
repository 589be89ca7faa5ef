package io.basalt.server;

import io.basalt.api.SamplingParams;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.StreamEvent;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * What HTTP and gRPC share between parsing a request and streaming its answer: admission (at most
 * max-num-seqs + max-queue requests in flight; the rest are refused at once, never queued without
 * bound), the per-request timeout, latency metrics, and one log line per finished request.
 */
public final class InferenceService implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("basalt.requests");

    private final ServedModel model;
    private final ServerMetrics metrics;
    private final int maxInFlight;
    private final Duration requestTimeout;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "basalt-request-timeouts");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean draining;

    /** @param requestTimeout Duration.ZERO for none */
    public InferenceService(ServedModel model, ServerMetrics metrics, int maxInFlight, Duration requestTimeout) {
        this.model = model;
        this.metrics = metrics;
        this.maxInFlight = maxInFlight;
        this.requestTimeout = requestTimeout;
    }

    public ServedModel model() { return model; }

    public ServerMetrics metrics() { return metrics; }

    public int inFlight() { return inFlight.get(); }

    /** Stops admitting (SIGTERM): new requests get {@link OverloadedException}, running ones finish. */
    public void drain() { draining = true; }

    public boolean isDraining() { return draining; }

    /**
     * Admits and submits a request. The listener sees every event of the engine (on the engine
     * thread: it must hand off, never block). Throws {@link OverloadedException} when full or
     * draining, {@link IllegalArgumentException} for a request the engine rejects.
     */
    public RequestHandle submit(String requestId, int[] promptTokens, SamplingParams params, int priority,
                                Consumer<StreamEvent> listener) {
        return submit(requestId, promptTokens, params, priority, timing(System.nanoTime(), TokenStamps.ENGINE), listener);
    }

    /** Who tells a request's latency metrics that tokens left the server, and when its answer ended. */
    public enum TokenStamps {
        /** The engine's token events, and the request's completion. */
        ENGINE,
        /**
         * The transport: it calls {@link TokenTiming#sent} when it hands tokens to the socket and
         * {@link TokenTiming#ended} after the last chunk (an SSE stream: TTFT, ITL and the end-to-end
         * latency then include its event-loop hop, as a client sees them).
         */
        TRANSPORT
    }

    /** A clock for one request's latency metrics, started at {@code arrivalNanos}. */
    public TokenTiming timing(long arrivalNanos, TokenStamps stamps) { return new TokenTiming(arrivalNanos, stamps); }

    /** Submits with the given {@link #timing} (its clock started when the request arrived, so parsing and tokenizing count). */
    public RequestHandle submit(String requestId, int[] promptTokens, SamplingParams params, int priority,
                                TokenTiming timing, Consumer<StreamEvent> listener) {
        if (draining) throw new OverloadedException("the server is shutting down");
        if (inFlight.incrementAndGet() > maxInFlight) {
            inFlight.decrementAndGet();
            metrics.recordRejected();
            throw new OverloadedException("too many requests in flight (" + maxInFlight + "); retry later");
        }
        long start = timing.start;
        TokenTiming tracker = timing;
        try {
            RequestHandle handle = model.engine().submit(new EngineRequest(requestId, promptTokens, params, priority), e -> {
                if (tracker.stamps == TokenStamps.ENGINE && e instanceof StreamEvent.Delta) tracker.sent();
                listener.accept(e);
            });
            if (!requestTimeout.isZero()) {
                ScheduledFuture<?> timeout = timers.schedule(() -> model.engine().abort(requestId),
                        requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
                handle.result().whenComplete((r, err) -> timeout.cancel(false));
            }
            tracker.accounted = handle.result().whenComplete((r, err) -> {
                inFlight.decrementAndGet();
                if (r != null) {
                    double seconds = (System.nanoTime() - start) / 1e9;
                    metrics.recordFinished(r);
                    // A transport-stamped stream's end-to-end latency ends at its last flush.
                    if (tracker.stamps == TokenStamps.ENGINE) metrics.recordEndToEnd(seconds);
                    LOG.info(() -> String.format("request %s model=%s prompt_tokens=%d generated_tokens=%d ttft_ms=%.1f "
                                    + "total_ms=%.1f finish=%s", requestId, model.id(), r.numPromptTokens(),
                            r.numGeneratedTokens(), tracker.ttftMillis(), seconds * 1e3,
                            r.choices().stream().map(c -> c.finishReason().openAiName()).toList()));
                }
            });
            return handle;
        } catch (RuntimeException e) {
            inFlight.decrementAndGet();
            throw e;
        }
    }

    /** Client gone (connection closed, gRPC cancel): the engine frees the blocks in its next step. */
    public void abort(String requestId) { model.engine().abort(requestId); }

    /** Times the first token and the gaps between tokens (across all choices) of one request. */
    public final class TokenTiming {
        private final long start;
        private final TokenStamps stamps;
        private long last;
        private volatile long firstTokenNanos = -1;
        private volatile CompletableFuture<RequestHandle.Result> accounted;

        private TokenTiming(long start, TokenStamps stamps) {
            this.start = start;
            this.stamps = stamps;
        }

        /** Tokens left the server now (one thread at a time: the engine's, or the connection's event loop). */
        public void sent() {
            long now = System.nanoTime();
            if (firstTokenNanos < 0) {
                firstTokenNanos = now - start;
                metrics.recordFirstToken(firstTokenNanos / 1e9);
            } else {
                metrics.recordInterToken((now - last) / 1e9);
            }
            last = now;
        }

        /** The stream's last chunk was flushed (only for {@link TokenStamps#TRANSPORT}): the end-to-end latency. */
        public void ended() {
            if (stamps == TokenStamps.TRANSPORT) metrics.recordEndToEnd((System.nanoTime() - start) / 1e9);
        }

        double ttftMillis() { return firstTokenNanos < 0 ? Double.NaN : firstTokenNanos / 1e6; }

        /**
         * The request's result once /metrics counts it (its counters are updated on the engine's completion thread): a
         * transport that ends its answer after this never lets a client see the answer before the metrics (set by submit).
         */
        public CompletableFuture<RequestHandle.Result> accounted() { return accounted; }
    }

    @Override
    public void close() { timers.shutdownNow(); }
}
