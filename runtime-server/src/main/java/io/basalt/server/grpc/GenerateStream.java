package io.basalt.server.grpc;

import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateResponse;
import io.basalt.api.grpc.TokenLogprob;
import io.basalt.api.grpc.TopLogprob;
import io.basalt.api.grpc.Usage;
import io.basalt.engine.ChoiceBuffer;
import io.basalt.engine.StreamEvent;
import io.basalt.engine.sampling.Sample;
import io.basalt.server.InferenceService;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * One server-streaming Generate call (STYLE 1.11). The engine thread only appends each event to its
 * choice's {@link ChoiceBuffer}; a drain task on {@code executor} sends what the buffers hold, and
 * only while the call {@code isReady()}. When the client falls behind, a choice's deltas merge in
 * its buffer and go out as one message when it catches up (the on-ready handler restarts the drain).
 * A client cancel (or deadline) aborts the request in the engine exactly once; the engine frees its
 * KV blocks in its next step.
 */
final class GenerateStream implements Consumer<StreamEvent> {
    /** Where the call is; every change is one atomic transition, so each side effect runs once. */
    private enum State {
        /** The handlers are installed and the request is being submitted; the engine may not have it yet. */
        STARTING,
        /** The client cancelled while the request was being submitted: the submitter aborts it once submitted. */
        CANCELLED_WHILE_STARTING,
        /** The engine has the request; the drain sends what it produces. */
        STREAMING,
        /** Every choice ended in the engine (nothing left to abort); the last messages are going out. */
        ENDING,
        /** Over for us (completed, failed or cancelled): {@code onDone} has run, nothing more is sent. */
        CLOSED;

        boolean isOver() { return this == CANCELLED_WHILE_STARTING || this == CLOSED; }
    }

    private final ServerCallStreamObserver<GenerateResponse> out;
    private final InferenceService service;
    private final String requestId;
    private final boolean logprobs;
    private final Executor executor;
    private final Runnable onDone;
    private final ChoiceBuffer[] choices;
    private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
    private final AtomicInteger drainRequests = new AtomicInteger();
    // Touched by the drain task only (one at a time).
    private int promptTokens;
    private int completionTokens;

    GenerateStream(ServerCallStreamObserver<GenerateResponse> out, InferenceService service, String requestId,
                   SamplingParams params, Executor executor, Runnable onDone) {
        this.out = out;
        this.service = service;
        this.requestId = requestId;
        this.logprobs = params.logprobs();
        this.executor = executor;
        this.onDone = onDone;
        this.choices = new ChoiceBuffer[params.n()];
        for (int i = 0; i < choices.length; i++) choices[i] = new ChoiceBuffer();
    }

    /** Installs the handlers, then submits; an admission or validation error closes the call. */
    void start(int[] prompt, SamplingParams params, int priority) {
        out.setOnCancelHandler(this::onCancel);
        out.setOnReadyHandler(this::scheduleDrain);
        try {
            service.submit(requestId, prompt, params, priority, this);
        } catch (RuntimeException e) {
            if (state.getAndSet(State.CLOSED) == State.STARTING) {
                onDone.run();
                out.onError(GrpcErrors.toStatus(e));
            }
            return;
        }
        State was = state.compareAndExchange(State.STARTING, State.STREAMING);
        if (was == State.CANCELLED_WHILE_STARTING) {
            state.set(State.CLOSED);
            service.abort(requestId);
        }
    }

    /** On the engine thread: hand off, never block. */
    @Override
    public void accept(StreamEvent event) {
        choices[event.choiceIndex()].add(event);
        scheduleDrain();
    }

    private void onCancel() {
        State was = state.getAndUpdate(s -> switch (s) {
            case STARTING -> State.CANCELLED_WHILE_STARTING;
            case STREAMING, ENDING -> State.CLOSED;
            case CANCELLED_WHILE_STARTING, CLOSED -> s;
        });
        if (was.isOver()) return;
        if (was == State.STREAMING) service.abort(requestId);
        onDone.run();
    }

    /**
     * Closes the call from the drain (an engine failure, or a transport that refused a message);
     * true if this call closed it. The engine has the request (it produced what the drain was
     * sending), so its other choices are aborted unless they had all ended.
     */
    private boolean closeFromDrain() {
        State was = state.getAndUpdate(s -> s.isOver() ? s : State.CLOSED);
        if (was.isOver()) return false;
        if (was != State.ENDING) service.abort(requestId);
        onDone.run();
        return true;
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
                closeFromDrain(); // the transport refused a message (call gone): stop decoding for it
            }
            missed = drainRequests.addAndGet(-missed);
        } while (missed != 0);
    }

    private void drainOnce() {
        while (!state.get().isOver() && out.isReady()) {
            // One message per choice: whatever its buffer merged since the last one.
            List<GenerateResponse.Builder> toSend = new ArrayList<>();
            boolean allDone = true;
            for (int i = 0; i < choices.length; i++) {
                ChoiceBuffer buffer = choices[i];
                if (buffer.hasPending()) {
                    ChoiceBuffer.Chunk chunk = buffer.take();
                    switch (chunk.end()) {
                        case null -> { }
                        case ChoiceBuffer.End.Finished f -> {
                            promptTokens = f.numPromptTokens();
                            completionTokens += f.numGeneratedTokens();
                        }
                        case ChoiceBuffer.End.Failed f -> {
                            if (closeFromDrain()) out.onError(GrpcErrors.engineFailure(f.message()));
                            return;
                        }
                    }
                    GenerateResponse.Builder m = message(i, chunk);
                    if (m.getTokenIdsCount() > 0 || !m.getText().isEmpty() || !m.getFinishReason().isEmpty()) toSend.add(m);
                }
                allDone &= buffer.isDone();
            }
            if (toSend.isEmpty() && !allDone) return; // nothing new: the next event schedules another drain
            if (allDone) {
                if (state.getAndUpdate(s -> s.isOver() ? s : State.ENDING).isOver()) return;
                if (!toSend.isEmpty()) {
                    toSend.getLast().setUsage(Usage.newBuilder().setPromptTokens(promptTokens).setCompletionTokens(completionTokens)
                            .setTotalTokens(promptTokens + completionTokens));
                }
            }
            for (GenerateResponse.Builder m : toSend) out.onNext(m.build());
            if (allDone) {
                if (state.compareAndSet(State.ENDING, State.CLOSED)) {
                    onDone.run();
                    out.onCompleted();
                }
                return;
            }
        }
    }

    private GenerateResponse.Builder message(int choice, ChoiceBuffer.Chunk chunk) {
        GenerateResponse.Builder m = GenerateResponse.newBuilder().setIndex(choice).setRequestId(requestId).setText(chunk.text());
        for (int t : chunk.tokenIds()) m.addTokenIds(t);
        if (logprobs) for (Sample s : chunk.logprobs()) m.addLogprobs(toProto(s));
        if (chunk.end() instanceof ChoiceBuffer.End.Finished f) m.setFinishReason(f.reason().openAiName());
        return m;
    }

    private static TokenLogprob toProto(Sample s) {
        TokenLogprob.Builder b = TokenLogprob.newBuilder().setTokenId(s.tokenId()).setLogprob(s.logprob());
        for (io.basalt.engine.sampling.TokenLogprob t : s.topLogprobs()) {
            b.addTopLogprobs(TopLogprob.newBuilder().setTokenId(t.tokenId()).setLogprob(t.logprob()));
        }
        return b.build();
    }
}
