package io.basalt.engine;

import io.basalt.api.FinishReason;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.engine.sampling.StopStringMatcher;
import io.basalt.tokenizer.IncrementalDecoder;
import java.util.Arrays;

/**
 * One completion being generated: its tokens (prompt then output), how many have KV computed,
 * and its sampling and detokenizing state. Mutable, confined to the engine thread.
 */
final class Sequence {
    final long id;
    final RequestState request;
    final int choiceIndex;
    final int numPromptTokens;
    final long arrivalOrder;
    final SequenceSampler sampler;
    final IncrementalDecoder decoder;
    final StopStringMatcher stopMatcher;
    /** The choice's grammar state (response_format, tagged regions), or null: unconstrained. */
    final ChoiceConstraint grammar;
    private int[] tokens;
    private int numTokens;
    /** Leading tokens whose KV is computed: the only count of it (the KV manager is told, and keeps none). */
    int numComputed;
    SequenceStatus status = SequenceStatus.WAITING;
    FinishReason finishReason;
    int numPreemptions;

    Sequence(long id, RequestState request, int choiceIndex, int[] tokens, int numTokens, long arrivalOrder,
             SequenceSampler sampler, IncrementalDecoder decoder, StopStringMatcher stopMatcher, ChoiceConstraint grammar) {
        this.id = id;
        this.request = request;
        this.choiceIndex = choiceIndex;
        this.numPromptTokens = request.request.numPromptTokens();
        this.tokens = Arrays.copyOf(tokens, Math.max(tokens.length, numTokens + 16));
        this.numTokens = numTokens;
        this.arrivalOrder = arrivalOrder;
        this.sampler = sampler;
        this.decoder = decoder;
        this.stopMatcher = stopMatcher;
        this.grammar = grammar;
    }

    int numTokens() { return numTokens; }

    int numGenerated() { return numTokens - numPromptTokens; }

    /** The backing array; valid in [0, numTokens()). Not copied: the KV manager and batch building read it. */
    int[] tokens() { return tokens; }

    int lastToken() { return tokens[numTokens - 1]; }

    int[] tokensRange(int from, int to) { return Arrays.copyOfRange(tokens, from, to); }

    void append(int token) {
        if (numTokens == tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
        tokens[numTokens++] = token;
    }

    /** Tokens whose KV still has to be computed before the next token can be sampled. */
    int numUncomputed() { return numTokens - numComputed; }

    int priority() { return request.request.priority(); }

    boolean isFinished() { return status == SequenceStatus.FINISHED; }

    @Override
    public String toString() { return "seq" + id + "(" + request.request.requestId() + "#" + choiceIndex + ", " + status + ")"; }
}
