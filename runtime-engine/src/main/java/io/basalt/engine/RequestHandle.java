package io.basalt.engine;

import io.basalt.api.FinishReason;
import io.basalt.engine.sampling.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The caller's side of a submitted request: a listener receives every {@link StreamEvent} as the
 * engine produces it (on the engine thread: it must not block), and {@link #result()} completes
 * once every choice has finished, on the engine's completion thread: what callers chain on it
 * (metrics, log lines) runs there, not on the engine thread.
 */
public final class RequestHandle {
    /** One finished choice. */
    public record Choice(int index, int[] tokenIds, String text, List<Sample> logprobs, FinishReason finishReason,
                         String error) { }

    /** Everything a request produced. */
    public record Result(String requestId, List<Choice> choices, int numPromptTokens, int numGeneratedTokens, Timeline timeline) {
        public Result(String requestId, List<Choice> choices, int numPromptTokens, int numGeneratedTokens) {
            this(requestId, choices, numPromptTokens, numGeneratedTokens, Timeline.NONE);
        }
    }

    /**
     * When the engine saw the request ({@link System#nanoTime()} stamps; 0 = never happened): submitted, first
     * scheduled (it left the waiting queue), its first and its last generated token. The phases vLLM's metrics
     * report are the gaps between them.
     */
    public record Timeline(long queuedNanos, long scheduledNanos, long firstTokenNanos, long lastTokenNanos) {
        public static final Timeline NONE = new Timeline(0, 0, 0, 0);

        /** Waiting for admission; NaN if it never ran. */
        public double queueSeconds() { return gap(queuedNanos, scheduledNanos); }

        /** From admission to the first token: the prompt's forward passes (prefill). */
        public double prefillSeconds() { return gap(scheduledNanos, firstTokenNanos); }

        /** From the first to the last token. */
        public double decodeSeconds() { return gap(firstTokenNanos, lastTokenNanos); }

        /** From admission to the last token. */
        public double inferenceSeconds() { return gap(scheduledNanos, lastTokenNanos); }

        private static double gap(long from, long to) { return from == 0 || to == 0 ? Double.NaN : (to - from) / 1e9; }
    }

    private final String requestId;
    private final int numChoices;
    private final Consumer<StreamEvent> listener;
    private final Executor completions;
    private final CompletableFuture<Result> result = new CompletableFuture<>();
    private boolean resultHandedOff;
    private final ChoiceBuffer[] choices;
    private int numFinished;
    private int numPromptTokens;
    private final long queuedNanos = System.nanoTime();
    private long scheduledNanos;
    private long firstTokenNanos;
    private long lastTokenNanos;

    /** @param completions where the result is built and the future completed (the engine's completion thread) */
    RequestHandle(String requestId, int numChoices, Consumer<StreamEvent> listener, Executor completions) {
        this.requestId = requestId;
        this.numChoices = numChoices;
        this.listener = listener;
        this.completions = completions;
        this.choices = new ChoiceBuffer[numChoices];
        for (int i = 0; i < numChoices; i++) choices[i] = new ChoiceBuffer();
    }

    public String requestId() { return requestId; }

    public CompletableFuture<Result> result() { return result; }

    /** The request's first sequence was scheduled at {@code nanos} (engine thread; later calls keep the first). */
    void markScheduled(long nanos) {
        if (scheduledNanos == 0) scheduledNanos = nanos;
    }

    /** Called by the engine thread only. */
    void publish(StreamEvent event) {
        if (choices[event.choiceIndex()].add(event)) numFinished++;
        switch (event) {
            case StreamEvent.Delta d -> {
                lastTokenNanos = System.nanoTime();
                if (firstTokenNanos == 0) firstTokenNanos = lastTokenNanos;
            }
            case StreamEvent.Finished f -> numPromptTokens = f.numPromptTokens();
            case StreamEvent.Failed f -> { }
        }
        try {
            listener.accept(event);
        } catch (RuntimeException e) {
            // A failing listener (a transport bug, a closed stream) must not take the step thread down
            // with it; the request still completes and its result stays available.
            java.util.logging.Logger.getLogger("basalt.engine").log(java.util.logging.Level.WARNING,
                    "listener of request " + requestId + " failed", e);
        } finally {
            if (numFinished == numChoices && !resultHandedOff) {
                // Every choice has finished, so the step thread writes nothing here any more: the completion
                // thread may build the result (the hand-off orders these writes before its reads).
                resultHandedOff = true;
                completions.execute(this::complete);
            }
        }
    }

    private void complete() {
        try {
            result.complete(build());
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
    }

    private Result build() {
        List<Choice> choices = new ArrayList<>(numChoices);
        int generated = 0;
        for (int i = 0; i < numChoices; i++) {
            ChoiceBuffer.Chunk all = this.choices[i].take(); // the only take: everything the choice produced
            generated += all.numTokens();
            choices.add(switch (all.end()) {
                case ChoiceBuffer.End.Finished f -> new Choice(i, all.tokenIds(), all.text(), all.logprobs(), f.reason(), null);
                case ChoiceBuffer.End.Failed f -> new Choice(i, all.tokenIds(), all.text(), all.logprobs(), FinishReason.ABORT,
                        f.message());
            });
        }
        return new Result(requestId, List.copyOf(choices), numPromptTokens, generated,
                new Timeline(queuedNanos, scheduledNanos, firstTokenNanos, lastTokenNanos));
    }
}
