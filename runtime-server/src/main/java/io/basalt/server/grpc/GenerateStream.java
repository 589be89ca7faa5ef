package io.basalt.server.grpc;

import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateResponse;
import io.basalt.api.grpc.TokenLogprob;
import io.basalt.api.grpc.TopLogprob;
import io.basalt.api.grpc.Usage;
import io.basalt.engine.StreamEvent;
import io.basalt.engine.sampling.Sample;
import io.basalt.server.InferenceService;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One server-streaming Generate call (STYLE 1.11). The engine thread only appends events to a
 * queue; a drain task on {@code executor} sends them, and only while the call {@code isReady()}.
 * When the client falls behind, the queued deltas of a choice are merged into one message when it
 * catches up (the on-ready handler restarts the drain). A client cancel (or deadline) aborts the
 * request in the engine exactly once; the engine frees its KV blocks in its next step.
 */
final class GenerateStream implements Consumer<StreamEvent> {
    private final ServerCallStreamObserver<GenerateResponse> out;
    private final InferenceService service;
    private final String requestId;
    private final int numChoices;
    private final boolean logprobs;
    private final Executor executor;
    private final Runnable onDone;
    private final ConcurrentLinkedQueue<StreamEvent> pending = new ConcurrentLinkedQueue<>();
    private final AtomicInteger drainRequests = new AtomicInteger();
    private final AtomicBoolean aborted = new AtomicBoolean();
    /** The call is over for us (completed, failed or cancelled): {@code onDone} has run. */
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile boolean submitted;
    private volatile boolean cancelled;
    /** Every choice ended in the engine: nothing left to abort. */
    private volatile boolean engineFinished;
    // Touched by the drain task only (one at a time).
    private int numFinished;
    private int promptTokens;
    private int completionTokens;

    GenerateStream(ServerCallStreamObserver<GenerateResponse> out, InferenceService service, String requestId,
                   SamplingParams params, Executor executor, Runnable onDone) {
        this.out = out;
        this.service = service;
        this.requestId = requestId;
        this.numChoices = params.n();
        this.logprobs = params.logprobs();
        this.executor = executor;
        this.onDone = onDone;
    }

    /** Installs the handlers, then submits; an admission or validation error closes the call. */
    void start(int[] prompt, SamplingParams params, int priority) {
        out.setOnCancelHandler(this::onCancel);
        out.setOnReadyHandler(this::scheduleDrain);
        try {
            service.submit(requestId, prompt, params, priority, this);
        } catch (RuntimeException e) {
            if (done.compareAndSet(false, true)) {
                onDone.run();
                if (!cancelled) out.onError(GrpcErrors.toStatus(e));
            }
            return;
        }
        submitted = true;
        if (cancelled) abortOnce();
    }

    /** On the engine thread: hand off, never block. */
    @Override
    public void accept(StreamEvent event) {
        pending.add(event);
        scheduleDrain();
    }

    private void onCancel() {
        cancelled = true;
        if (submitted) abortOnce();
        scheduleDrain(); // drops whatever is queued
    }

    /** Called from the cancel handler and from start, whichever sees both flags; runs once. */
    private void abortOnce() {
        if (!engineFinished && aborted.compareAndSet(false, true)) service.abort(requestId);
    }

    private void scheduleDrain() {
        if (drainRequests.getAndIncrement() == 0) executor.execute(this::drain);
    }

    /** Runs until no drain request is left (requests arriving meanwhile are served by this same run). */
    private void drain() {
        int missed = 1;
        do {
            try {
                drainOnce();
            } catch (RuntimeException e) {
                // The transport refused a message (call gone): stop decoding for it.
                cancelled = true;
                if (submitted) abortOnce();
                pending.clear();
                finish();
            }
            missed = drainRequests.addAndGet(-missed);
        } while (missed != 0);
    }

    private void drainOnce() {
        if (cancelled || done.get()) {
            pending.clear();
            if (cancelled) finish();
            return;
        }
        while (!pending.isEmpty() && out.isReady()) {
            List<StreamEvent> batch = new ArrayList<>();
            for (StreamEvent e; (e = pending.poll()) != null; ) batch.add(e);
            // One message per choice: the deltas queued while the client was behind, merged.
            Map<Integer, Merged> messages = new LinkedHashMap<>();
            String failure = null;
            for (StreamEvent e : batch) {
                Merged m = messages.computeIfAbsent(e.choiceIndex(), Merged::new);
                switch (e) {
                    case StreamEvent.Delta d -> {
                        for (int t : d.tokenIds()) m.message.addTokenIds(t);
                        m.text.append(d.text());
                        if (logprobs && d.logprobs() != null) for (Sample s : d.logprobs()) m.message.addLogprobs(toProto(s));
                    }
                    case StreamEvent.Finished f -> {
                        m.text.append(f.text());
                        m.message.setFinishReason(f.reason().openAiName());
                        numFinished++;
                        promptTokens = f.numPromptTokens();
                        completionTokens += f.numGeneratedTokens();
                    }
                    case StreamEvent.Failed f -> {
                        numFinished++;
                        if (failure == null) failure = f.message();
                    }
                }
            }
            if (failure != null) {
                if (done.compareAndSet(false, true)) {
                    onDone.run();
                    if (aborted.compareAndSet(false, true)) service.abort(requestId); // the other choices
                    out.onError(GrpcErrors.engineFailure(failure));
                }
                pending.clear();
                return;
            }
            List<GenerateResponse.Builder> toSend = new ArrayList<>();
            for (Merged m : messages.values()) {
                if (m.message.getTokenIdsCount() > 0 || !m.text.isEmpty() || !m.message.getFinishReason().isEmpty()) {
                    toSend.add(m.message.setText(m.text.toString()));
                }
            }
            boolean last = numFinished >= numChoices;
            if (last) engineFinished = true;
            if (last && !toSend.isEmpty()) {
                toSend.getLast().setUsage(Usage.newBuilder().setPromptTokens(promptTokens).setCompletionTokens(completionTokens)
                        .setTotalTokens(promptTokens + completionTokens));
            }
            for (GenerateResponse.Builder m : toSend) out.onNext(m.build());
            if (last) {
                if (done.compareAndSet(false, true)) {
                    onDone.run();
                    out.onCompleted();
                }
                pending.clear();
                return;
            }
        }
    }

    /** After a cancel: nothing more is sent; the call's bookkeeping ends once. */
    private void finish() {
        if (done.compareAndSet(false, true)) onDone.run();
    }

    /** A message being assembled for one choice. */
    private final class Merged {
        final GenerateResponse.Builder message;
        final StringBuilder text = new StringBuilder();

        Merged(int choice) { message = GenerateResponse.newBuilder().setIndex(choice).setRequestId(requestId); }
    }

    private static TokenLogprob toProto(Sample s) {
        TokenLogprob.Builder b = TokenLogprob.newBuilder().setTokenId(s.tokenId()).setLogprob(s.logprob());
        for (io.basalt.engine.sampling.TokenLogprob t : s.topLogprobs()) {
            b.addTopLogprobs(TopLogprob.newBuilder().setTokenId(t.tokenId()).setLogprob(t.logprob()));
        }
        return b.build();
    }
}
