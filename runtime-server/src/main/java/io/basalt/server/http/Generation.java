package io.basalt.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import io.basalt.engine.ChoiceBuffer;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.StreamEvent;
import io.basalt.server.InferenceService;
import io.basalt.server.InferenceService.TokenStamps;
import io.basalt.server.openai.ResponseFormat;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One generation between the engine and a connection (STYLE.md §1.11).
 *
 * <p>Threads: {@link #submit} runs on the preparation pool; the engine's listener only appends the
 * event to its choice's {@link ChoiceBuffer} and, if no drain is pending, schedules one on the
 * channel's event loop; everything else runs on that event loop, so the buffers are the only state
 * shared between threads.
 *
 * <p>Backpressure: the buffers merge each choice's deltas (tokens, text, logprobs) and are written
 * only while the channel is writable — one chunk per choice per drain — so a slow client gets fewer,
 * larger chunks instead of an unbounded queue of frames; writing resumes when Netty reports the
 * channel writable again.
 *
 * <p>Cancellation: if the connection closes before the last byte, the request is aborted exactly
 * once ({@link InferenceService#abort}); the engine frees its blocks in its next step. A close that
 * races with submission is seen when the submission reaches the event loop.
 */
final class Generation {
    /** How the answer goes out. */
    enum Delivery {
        /** One JSON response once every choice has finished. */
        WHOLE,
        /** Server-sent events as the tokens come. */
        STREAM,
        /** Server-sent events, then a last chunk with the usage (stream_options.include_usage). */
        STREAM_WITH_USAGE;

        static Delivery of(boolean stream, boolean includeUsage) {
            return !stream ? WHOLE : includeUsage ? STREAM_WITH_USAGE : STREAM;
        }

        boolean isStream() { return this != WHOLE; }
    }

    private final Exchange ex;
    private final InferenceService service;
    private final ResponseFormat format;
    private final Delivery delivery;
    private final int promptTokens;
    /** What each choice produced that has not been written yet, and how it ended. */
    private final ChoiceBuffer[] choices;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private InferenceService.TokenTiming timing;
    private boolean submitted;
    private boolean completed;
    private boolean aborted;

    Generation(Exchange ex, InferenceService service, ResponseFormat format, Delivery delivery, int promptTokens) {
        this.ex = ex;
        this.service = service;
        this.format = format;
        this.delivery = delivery;
        this.promptTokens = promptTokens;
        this.choices = new ChoiceBuffer[format.numChoices()];
        for (int i = 0; i < choices.length; i++) choices[i] = new ChoiceBuffer();
    }

    /** Preparation pool: admission and submission (throws OverloadedException / IllegalArgumentException). */
    void submit(int[] prompt, SamplingParams params, int priority) {
        boolean stream = delivery.isStream();
        timing = service.timing(ex.receivedNanos(), stream ? TokenStamps.TRANSPORT : TokenStamps.ENGINE);
        RequestHandle handle = service.submit(format.id(), prompt, params, priority, timing, stream ? this::onEngineEvent : e -> { });
        if (!ex.execute(this::onSubmitted)) {
            service.abort(format.id());       // the server is shutting down its event loops
            return;
        }
        if (!stream) timing.accounted().whenComplete((r, err) -> ex.execute(() -> onResult(r, err)));
    }

    /** Engine thread: must not block. */
    private void onEngineEvent(StreamEvent e) {
        choices[e.choiceIndex()].add(e);
        if (drainScheduled.compareAndSet(false, true)) ex.execute(this::pump);
    }

    private void onSubmitted() {
        submitted = true;
        if (ex.isDone()) {                    // the client left while the request was being prepared
            abortOnce();
            return;
        }
        ex.onClose(this::onClientGone);
        if (!delivery.isStream()) return;
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

    /** Event loop: the flag is cleared before the buffers are read, so an event added meanwhile schedules another pump. */
    private void pump() {
        drainScheduled.set(false);
        drain();
    }

    /** Writes what is pending while the channel is writable; ends the stream when every choice has ended. */
    private void drain() {
        if (!submitted || completed || ex.isDone()) return;
        boolean wrote = false, allEnded = true, sentTokens = false;
        for (int i = 0; i < choices.length; i++) {
            ChoiceBuffer c = choices[i];
            if (c.isDone()) continue;
            if (!ex.isWritable()) {
                allEnded = false;
                break;
            }
            if (!c.hasPending()) {
                allEnded = false;
                continue;
            }
            ChoiceBuffer.Chunk chunk = c.take();
            if (chunk.hasOutput() || chunk.isLast()) {
                ObjectNode delta = format.delta(i, chunk.tokenIds(), chunk.text(), chunk.logprobs(), chunk.isLast());
                if (delta != null) {
                    ex.event(delta);
                    wrote = true;
                    sentTokens |= chunk.numTokens() > 0;
                }
            }
            switch (chunk.end()) {
                case null -> allEnded = false;
                case ChoiceBuffer.End.Finished f -> {
                    ex.event(format.finish(i, f.reason()));
                    wrote = true;
                }
                case ChoiceBuffer.End.Failed f -> {
                    ex.event(OpenAiErrors.streamError("generation failed: " + f.message()));
                    wrote = true;
                }
            }
        }
        if (allEnded && ex.isWritable()) {
            completed = true;
            if (wrote) ex.flush();
            // [DONE] once /metrics counts the request, so a client that scrapes after the answer sees it counted
            timing.accounted().whenComplete((r, err) -> ex.execute(this::endStream));
        } else if (wrote) {
            ex.flush();
        }
        if (sentTokens) timing.sent(); // flushed above: the latency metrics stamp tokens as they leave
    }

    /** Event loop, after the last choice ended and the request was accounted: usage (if asked), [DONE]. */
    private void endStream() {
        if (ex.isDone()) return;
        if (delivery == Delivery.STREAM_WITH_USAGE) {
            int generated = 0;
            for (ChoiceBuffer c : choices) generated += c.numGeneratedTokens();
            ex.event(format.usage(promptTokens, generated));
        }
        ex.endEvents();
        timing.ended();
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
