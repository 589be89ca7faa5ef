package io.basalt.engine;

import io.basalt.api.FinishReason;
import io.basalt.engine.sampling.Sample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One choice's output on its way from the engine to a reader (STYLE.md §1.11): the engine thread
 * {@link #add}s each event; the reader {@link #take}s what accumulated since its previous take, merged
 * into one {@link Chunk}. A reader that falls behind gets fewer, larger chunks, never a queue of
 * events; nothing is lost and the order is kept. The HTTP and gRPC streams and {@link RequestHandle}'s
 * result (one take at the end) all assemble a choice here.
 *
 * <p>Thread-safe for one writer and one reader; both hold the lock only to copy.
 */
public final class ChoiceBuffer {
    /** How a choice ended. */
    public sealed interface End {
        /** The engine finished the choice. */
        record Finished(FinishReason reason, int numPromptTokens, int numGeneratedTokens) implements End { }

        /** The choice failed inside the engine (e.g. the backend threw). */
        record Failed(String message) implements End { }
    }

    /**
     * What accumulated since the previous take.
     *
     * @param end how the choice ended, on the one take that hands it out (the choice's last); null before
     */
    public record Chunk(int[] tokenIds, String text, List<Sample> logprobs, End end) {
        public Chunk {
            tokenIds = tokenIds.clone();
            logprobs = List.copyOf(logprobs);
        }

        @Override
        public int[] tokenIds() { return tokenIds.clone(); }

        public int numTokens() { return tokenIds.length; }

        /** Tokens, text or logprobs to send (an end alone has none). */
        public boolean hasOutput() { return tokenIds.length > 0 || !text.isEmpty() || !logprobs.isEmpty(); }

        public boolean isLast() { return end != null; }
    }

    private int[] tokens = new int[8];
    private int numTokens;
    private final StringBuilder text = new StringBuilder();
    private final List<Sample> logprobs = new ArrayList<>();
    private int numAppendedTokens;
    private End end;
    private boolean endTaken;

    /**
     * Appends a delta, or records the end (a finish's trailing text is appended first). The engine
     * sends nothing after a choice's end; should anything come, the first end stands.
     *
     * @return whether this event ended the choice
     */
    public synchronized boolean add(StreamEvent event) {
        if (end != null) return false;
        switch (event) {
            case StreamEvent.Delta d -> {
                int[] ids = d.tokenIds();
                if (numTokens + ids.length > tokens.length) {
                    tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, numTokens + ids.length));
                }
                System.arraycopy(ids, 0, tokens, numTokens, ids.length);
                numTokens += ids.length;
                numAppendedTokens += ids.length;
                text.append(d.text());
                if (d.logprobs() != null) logprobs.addAll(d.logprobs());
                return false;
            }
            case StreamEvent.Finished f -> {
                text.append(f.text());
                end = new End.Finished(f.reason(), f.numPromptTokens(), f.numGeneratedTokens());
            }
            case StreamEvent.Failed f -> end = new End.Failed(f.message());
        }
        return true;
    }

    /** Whether a take would hand out anything: output, or the end not taken yet. */
    public synchronized boolean hasPending() {
        return numTokens > 0 || !text.isEmpty() || !logprobs.isEmpty() || (end != null && !endTaken);
    }

    /** What accumulated since the previous take; the first take after the end carries it. */
    public synchronized Chunk take() {
        Chunk c = new Chunk(Arrays.copyOf(tokens, numTokens), text.toString(), logprobs, endTaken ? null : end);
        numTokens = 0;
        text.setLength(0);
        logprobs.clear();
        if (end != null) endTaken = true;
        return c;
    }

    /** The end has been taken: nothing more will come. */
    public synchronized boolean isDone() { return endTaken; }

    /** Tokens the choice generated: the engine's count once it finished, else those appended so far. */
    public synchronized int numGeneratedTokens() {
        return end instanceof End.Finished f ? f.numGeneratedTokens() : numAppendedTokens;
    }
}
