package io.basalt.engine;

import io.basalt.api.FinishReason;
import io.basalt.engine.sampling.Sample;
import io.basalt.engine.sampling.StopStringMatcher;
import io.basalt.kv.KvCacheManager;
import io.basalt.spi.Batch;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.StepOutput;
import java.util.List;

/**
 * The second half of a step: record the computed KV, take the next token of every sequence that reached
 * its end (sampled here from its logits, or as the device sampled it), apply the stop rules (stop tokens,
 * stop strings, max_tokens, context length), publish the deltas, and retire finished sequences (their
 * blocks go back to the pool at once).
 */
final class StepCompleter {
    /** Creates choice {@code index} of a request as a copy of the given tokens (n > 1 fan-out). */
    interface SequenceFactory {
        Sequence create(RequestState state, int choiceIndex, int[] tokens, int numTokens);
    }

    private final Scheduler scheduler;
    private final KvCacheManager kv;
    private final int maxModelLen;
    private final SequenceFactory factory;
    private long numPromptTokensComputed;
    private long numGeneratedTokens;
    private long sampleNanos;
    private long lastSampleNanos;

    StepCompleter(Scheduler scheduler, KvCacheManager kv, int maxModelLen, SequenceFactory factory) {
        this.scheduler = scheduler;
        this.kv = kv;
        this.maxModelLen = maxModelLen;
        this.factory = factory;
    }

    long numPromptTokensComputed() { return numPromptTokensComputed; }

    long numGeneratedTokens() { return numGeneratedTokens; }

    long sampleNanos() { return sampleNanos; }

    long lastSampleNanos() { return lastSampleNanos; }

    /**
     * The runner kept the contract: one output per sequence, a token or logits for each sequence that reached its
     * end and nothing for the rest, sampled ids only from a backend that samples (whose requests were checked).
     */
    static void checkOutput(Batch batch, StepOutput output, boolean onDeviceSampling, int vocab) {
        int n = batch.sequences().size();
        if (output.sequences().size() != n) {
            throw new IllegalStateException("the runner returned " + output.sequences().size() + " outputs for " + n + " sequences");
        }
        for (int i = 0; i < n; i++) {
            SequenceInput in = batch.sequences().get(i);
            boolean ok = switch (output.sequences().get(i)) {
                case SequenceOutput.None none -> !in.needLogits();
                case SequenceOutput.Logits logits -> in.needLogits();
                case SequenceOutput.Sampled sampled -> in.needLogits() && onDeviceSampling && sampled.tokenId() < vocab;
            };
            if (!ok) {
                throw new IllegalStateException("the runner returned " + output.sequences().get(i) + " for sequence " + in.seqId()
                        + (in.needLogits() ? ", which needs its next token" : ", which asked for nothing")
                        + (onDeviceSampling ? "" : " (the backend does not sample on the device)"));
            }
        }
    }

    void complete(Scheduler.Plan plan, StepOutput output) {
        long t0 = System.nanoTime();
        List<Scheduler.Scheduled> scheduled = plan.scheduled();
        for (int i = 0; i < scheduled.size(); i++) {
            Scheduler.Scheduled s = scheduled.get(i);
            Sequence seq = s.sequence();
            seq.numComputed = s.startPosition() + s.numTokens();
            numPromptTokensComputed += Math.max(0, Math.min(seq.numComputed, seq.numPromptTokens) - s.startPosition());
            kv.markComputed(seq.id, seq.tokens(), seq.numComputed);
            if (seq.numComputed < seq.numTokens()) continue; // a prefill chunk short of the prompt's end
            RequestState state = seq.request;
            boolean fork = !state.forked && state.numChoices() > 1;
            state.forked = true;
            switch (output.sequences().get(i)) {
                case SequenceOutput.Logits l -> {
                    if (fork) fork(seq, l.values());
                    else sampleAndAppend(seq, l.values());
                }
                case SequenceOutput.Sampled d -> {
                    if (fork) forkToRedraw(seq);
                    accept(seq, new Sample(d.tokenId(), Float.NaN, List.of()), seq.numGenerated());
                }
                // Engine.step checked the output: a sequence that reached its end got a token or logits.
                case SequenceOutput.None n -> throw new IllegalStateException("no next token for " + seq);
            }
        }
        lastSampleNanos = System.nanoTime() - t0;
        sampleNanos += lastSampleNanos;
    }

    /** n > 1: choices 1..n-1 share choice 0's prompt blocks, each samples its own first token. */
    private void fork(Sequence first, float[] logits) {
        RequestState state = first.request;
        for (int c = 1; c < state.numChoices(); c++) {
            Sequence child = factory.create(state, c, first.tokens(), first.numTokens());
            kv.fork(first.id, child.id);
            child.numComputed = first.numComputed;
            scheduler.addRunning(child);
            sampleAndAppend(child, logits.clone());
        }
        sampleAndAppend(first, logits);
    }

    /**
     * n > 1 when the device samples: it drew choice 0's first token only. Choices 1..n-1 share choice 0's prompt
     * blocks with the prompt's last token not yet computed, so each recomputes that one token (its block is
     * copied on write) and the device draws the choice's first token from the choice's own stream.
     */
    private void forkToRedraw(Sequence first) {
        RequestState state = first.request;
        for (int c = 1; c < state.numChoices(); c++) {
            Sequence child = factory.create(state, c, first.tokens(), first.numTokens());
            kv.fork(first.id, child.id);
            child.numComputed = first.numComputed - 1;
            scheduler.addRunning(child);
        }
    }

    private void sampleAndAppend(Sequence seq, float[] logits) {
        int generated = seq.numGenerated();
        ChoiceConstraint g = seq.grammar;
        long[] mask = g == null ? null : g.mask();   // null also for a tagged choice outside its regions: unconstrained
        Sample sample = mask == null ? seq.sampler.sample(logits, generated)
                : seq.sampler.sample(logits, generated, mask, g.isAccepting());
        accept(seq, sample, generated);
    }

    /** Appends the chosen token and applies the stop rules; {@code generated} = tokens generated before it. */
    private void accept(Sequence seq, Sample sample, int generated) {
        int token = sample.tokenId();
        if (seq.sampler.isStopToken(token, generated)) {
            finish(seq, FinishReason.STOP, false);
            return;
        }
        if (seq.grammar != null && !seq.grammar.accept(token)) {
            // The mask allowed it, so the grammar contradicts itself: end this request cleanly, not the engine.
            failRequest(seq.request, "the grammar rejected token " + token + " that its mask allowed");
            return;
        }
        seq.append(token);
        numGeneratedTokens++;
        StopStringMatcher.Result r = seq.stopMatcher.accept(seq.decoder.next(token));
        List<Sample> logprobs = seq.request.request.params().logprobs() ? List.of(sample) : null;
        seq.request.handle.publish(new StreamEvent.Delta(seq.choiceIndex, new int[] {token}, r.emit(), logprobs));
        if (r.stopped()) finish(seq, FinishReason.STOP, true);
        else if (seq.grammar != null && seq.grammar.isTerminated()) finish(seq, FinishReason.STOP, false);
        else if (seq.numGenerated() >= seq.request.request.params().maxTokens()) finish(seq, FinishReason.LENGTH, false);
        else if (seq.numTokens() >= maxModelLen) finish(seq, FinishReason.LENGTH, false);
    }

    /** A preempted sequence that could never fit the pool, even alone, ends instead of cycling. */
    void handlePreempted(List<Sequence> preempted) {
        int blockSize = kv.blockSize();
        for (Sequence seq : preempted) {
            if ((seq.numTokens() + blockSize) / blockSize > kv.numTotalBlocks()) finish(seq, FinishReason.LENGTH, false);
        }
    }

    private void finish(Sequence seq, FinishReason reason, boolean stoppedByString) {
        if (seq.isFinished()) return;
        String tail = "";
        if (!stoppedByString) {
            StopStringMatcher.Result r = seq.stopMatcher.accept(seq.decoder.flush());
            tail = r.stopped() ? r.emit() : r.emit() + seq.stopMatcher.flush();
            if (r.stopped()) reason = FinishReason.STOP;
        }
        seq.status = SequenceStatus.FINISHED;
        seq.finishReason = reason;
        scheduler.remove(seq);
        seq.request.numFinishedChoices++;
        seq.request.handle.publish(new StreamEvent.Finished(seq.choiceIndex, reason, tail, seq.numPromptTokens,
                seq.numGenerated()));
    }

    /** The runner threw: every sequence of the step fails, with its whole request. */
    void fail(Scheduler.Plan plan, String message) {
        for (Scheduler.Scheduled s : plan.scheduled()) failRequest(s.sequence().request, message);
    }

    void failUnstarted(RequestState state, String message) { failRequest(state, message); }

    private void failRequest(RequestState state, String message) {
        for (Sequence seq : state.sequences) {
            if (seq.isFinished()) continue;
            seq.status = SequenceStatus.FINISHED;
            seq.finishReason = FinishReason.ABORT;
            scheduler.remove(seq);
            state.numFinishedChoices++;
            state.handle.publish(new StreamEvent.Failed(seq.choiceIndex, message));
        }
        for (int c = state.sequences.size(); c < state.numChoices() && !state.forked; c++) {
            state.numFinishedChoices++;
            state.handle.publish(new StreamEvent.Failed(c, message));
        }
        state.forked = true;
    }

    /** Ends every unfinished choice of the request with ABORT and frees its blocks. */
    void abort(RequestState state) {
        for (Sequence seq : state.sequences) {
            if (!seq.isFinished()) finish(seq, FinishReason.ABORT, false);
        }
        for (int c = state.sequences.size(); c < state.numChoices() && !state.forked; c++) {
            state.numFinishedChoices++;
            state.handle.publish(new StreamEvent.Finished(c, FinishReason.ABORT, "", state.request.numPromptTokens(), 0));
        }
        state.forked = true;
    }
}
