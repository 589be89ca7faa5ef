package io.basalt.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.StreamEvent;
import io.basalt.engine.sampling.Sample;
import io.basalt.server.InferenceService;
import io.basalt.server.openai.ResponseFormat;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One generation between the engine and a connection (STYLE.md §1.11).
 *
 * <p>Threads: {@link #submit} runs on the preparation pool; the engine's listener only queues the
 * event and, if no drain is pending, schedules one on the channel's event loop; everything else
 * runs on that event loop, so no state here is shared without the queue.
 *
 * <p>Backpressure: events are merged per choice (tokens, text, logprobs appended) and written only
 * while the channel is writable — one chunk per choice per drain — so a slow client gets fewer,
 * larger chunks instead of an unbounded queue of frames; writing resumes when Netty reports the
 * channel writable again.
 *
 * <p>Cancellation: if the connection closes before the last byte, the request is aborted exactly
 * once ({@link InferenceService#abort}); the engine frees its blocks in its next step. A close that
 * races with submission is seen when the submission reaches the event loop.
 */
final class Generation {
    private final Exchange ex;
    private final InferenceService service;
    private final ResponseFormat format;
    private final boolean stream;
    private final boolean includeUsage;
    private final int promptTokens;
    private final Choice[] choices;
    private final ConcurrentLinkedQueue<StreamEvent> events = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private InferenceService.TokenTiming timing;
    private boolean submitted;
    private boolean completed;
    private boolean aborted;

    /** What a choice produced that has not been written yet, and how it ended. */
    private static final class Choice {
        int[] tokens = new int[8];
        int numTokens;
        final StringBuilder text = new StringBuilder();
        final List<Sample> logprobs = new ArrayList<>();
        int generated;
        FinishReason finish;
        String error;
        boolean ended;

        void add(StreamEvent.Delta d) {
            int[] ids = d.tokenIds();
            if (numTokens + ids.length > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, numTokens + ids.length));
            System.arraycopy(ids, 0, tokens, numTokens, ids.length);
            numTokens += ids.length;
            generated += ids.length;
            text.append(d.text());
            if (d.logprobs() != null) logprobs.addAll(d.logprobs());
        }

        boolean hasOutput() { return numTokens > 0 || !text.isEmpty() || !logprobs.isEmpty(); }

        int[] takeTokens() {
            int[] out = Arrays.copyOf(tokens, numTokens);
            numTokens = 0;
            return out;
        }

        String takeText() {
            String s = text.toString();
            text.setLength(0);
            return s;
        }

        List<Sample> takeLogprobs() {
            List<Sample> out = List.copyOf(logprobs);
            logprobs.clear();
            return out;
        }
    }

    Generation(Exchange ex, InferenceService service, ResponseFormat format, boolean stream, boolean includeUsage,
               int promptTokens) {
        this.ex = ex;
        this.service = service;
        this.format = format;
        this.stream = stream;
        this.includeUsage = includeUsage;
        this.promptTokens = promptTokens;
        this.choices = new Choice[format.numChoices()];
        for (int i = 0; i < choices.length; i++) choices[i] = new Choice();
    }

    /** Preparation pool: admission and submission (throws OverloadedException / IllegalArgumentException). */
    void submit(int[] prompt, SamplingParams params, int priority) {
        timing = service.timing(ex.receivedNanos(), stream);
        RequestHandle handle = service.submit(format.id(), prompt, params, priority, timing, stream ? this::onEngineEvent : e -> { });
        if (!ex.execute(this::onSubmitted)) {
            service.abort(format.id());       // the server is shutting down its event loops
            return;
        }
        if (!stream) handle.result().whenComplete((r, err) -> ex.execute(() -> onResult(r, err)));
    }

    /** Engine thread: must not block. */
    private void onEngineEvent(StreamEvent e) {
        events.add(e);
        if (drainScheduled.compareAndSet(false, true)) ex.execute(this::pump);
    }

    private void onSubmitted() {
        submitted = true;
        if (ex.isDone()) {                    // the client left while the request was being prepared
            abortOnce();
            return;
        }
        ex.onClose(this::onClientGone);
        if (!stream) return;
        ex.onWritable(this::drain);
        ex.startEvents();
        for (ObjectNode chunk : format.start()) ex.event(chunk);
        ex.flush();
        drain();
    }

    private void onClientGone() {
        if (!completed) abortOnce();
    }

    private void abortOnce() {
        if (aborted) return;
        aborted = true;
        service.abort(format.id());
    }

    private void pump() {
        drainScheduled.set(false);
        for (StreamEvent e; (e = events.poll()) != null; ) {
            Choice c = choices[e.choiceIndex()];
            switch (e) {
                case StreamEvent.Delta d -> c.add(d);
                case StreamEvent.Finished f -> {
                    c.text.append(f.text());
                    c.finish = f.reason();
                    c.generated = f.numGeneratedTokens();
                }
                case StreamEvent.Failed f -> {
                    c.error = f.message();
                    c.finish = FinishReason.ABORT;
                }
            }
        }
        drain();
    }

    /** Writes what is pending while the channel is writable; ends the stream when every choice has ended. */
    private void drain() {
        if (!submitted || completed || ex.isDone()) return;
        boolean wrote = false, allEnded = true, sentTokens = false;
        for (int i = 0; i < choices.length; i++) {
            Choice c = choices[i];
            if (c.ended) continue;
            if (!ex.isWritable()) {
                allEnded = false;
                break;
            }
            boolean last = c.finish != null;
            if (c.hasOutput() || last) {
                int[] tokens = c.takeTokens();
                ObjectNode chunk = format.delta(i, tokens, c.takeText(), c.takeLogprobs(), last);
                if (chunk != null) {
                    ex.event(chunk);
                    wrote = true;
                    sentTokens |= tokens.length > 0;
                }
            }
            if (last) {
                ex.event(c.error != null ? OpenAiErrors.streamError("generation failed: " + c.error) : format.finish(i, c.finish));
                c.ended = true;
                wrote = true;
            } else {
                allEnded = false;
            }
        }
        if (allEnded && ex.isWritable()) {
            completed = true;
            if (includeUsage) {
                int generated = 0;
                for (Choice c : choices) generated += c.generated;
                ex.event(format.usage(promptTokens, generated));
            }
            ex.endEvents();
        } else if (wrote) {
            ex.flush();
        }
        if (sentTokens) timing.sent(); // flushed above: the latency metrics stamp tokens as they leave
        if (completed) timing.ended();
    }

    private void onResult(RequestHandle.Result result, Throwable error) {
        completed = true;
        if (ex.isDone()) return;
        if (error != null) {
            ex.sendError(OpenAiErrors.of(error, null));
            return;
        }
        for (RequestHandle.Choice c : result.choices()) {
            if (c.error() != null) {
                ex.sendError(OpenAiErrors.internal("generation failed: " + c.error()));
                return;
            }
        }
        ex.sendJson(HttpResponseStatus.OK, format.response(result, promptTokens));
    }
}
