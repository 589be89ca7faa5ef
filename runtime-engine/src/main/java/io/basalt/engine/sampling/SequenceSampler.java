package io.basalt.engine.sampling;

import io.basalt.api.SamplingParams;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Per-sequence sampling state: its own RNG stream (seeded from {@code params.seed()}, plus the
 * completion index for n > 1 so the n choices differ but are reproducible), token counts for
 * penalties. Not thread-safe; one per sequence. Nothing here is shared, so sequences of one batch
 * can be sampled from different threads.
 */
public final class SequenceSampler {
    private final SamplingParams params;
    private final XorShiftStar rng;
    private final int[] biasIds;
    private final float[] biasValues;
    /** stop_token_ids ∪ (EOS unless ignore_eos), sorted: what ends a completion and what min_tokens bans. */
    private final int[] stopIds;
    private final boolean repetition;
    private final boolean presenceOrFrequency;
    private final IntCounts promptSeen;   // only when repetition_penalty != 1
    private final IntCounts outputCounts; // only when any penalty is on
    private float[] raw;                  // copy of the raw logits, only when logprobs are requested

    /**
     * @param choiceIndex  0..n-1; choice 0 uses the seed as given (llama2.c's generator and procedure)
     * @param promptTokens the prompt (repetition penalty counts it as "seen")
     * @param eosIds       the model's EOS ids ({@code Tokenizer.eosIds()})
     */
    public SequenceSampler(SamplingParams params, int choiceIndex, int[] promptTokens, int[] eosIds) {
        this.params = params;
        this.rng = XorShiftStar.forChoice(params.seed(), choiceIndex);
        Map<Integer, Float> bias = params.logitBias();
        biasIds = new int[bias.size()];
        biasValues = new float[bias.size()];
        int i = 0;
        for (Map.Entry<Integer, Float> e : bias.entrySet()) {
            biasIds[i] = e.getKey();
            biasValues[i++] = e.getValue();
        }
        int[] stopTokenIds = params.stopTokenIds();
        int[] stops = params.ignoreEos() || eosIds == null ? stopTokenIds : io.basalt.tokenizer.TokenIds.concat(List.of(stopTokenIds, eosIds));
        stopIds = Arrays.stream(stops).sorted().distinct().toArray();
        repetition = params.repetitionPenalty() != 1f;
        presenceOrFrequency = params.presencePenalty() != 0f || params.frequencyPenalty() != 0f;
        if (repetition) {
            promptSeen = new IntCounts(Math.min(promptTokens.length, 1 << 16));
            for (int t : promptTokens) promptSeen.increment(t);
        } else {
            promptSeen = null;
        }
        outputCounts = repetition || presenceOrFrequency ? new IntCounts(Math.min(params.maxTokens(), 1024)) : null;
    }

    /**
     * Chooses the next token from the raw logits (the array may be modified in place).
     * {@code numGenerated} = tokens generated so far (min_tokens suppresses EOS and stop token ids
     * until reached; ignore_eos removes EOS ids from the stop set). Order (as vLLM): logit_bias →
     * min_tokens suppression → repetition penalty (over prompt+output tokens) → presence/frequency
     * penalties (over output tokens) → if greedy: argmax; else temperature → top_k → top_p → min_p
     * → draw. Records the chosen token for later penalties.
     */
    public Sample sample(float[] logits, int numGenerated) { return sample(logits, numGenerated, null, false); }

    /**
     * {@link #sample(float[], int)} under a grammar: tokens whose bit is clear in {@code allowed} (bit i of word i / 64;
     * ids past its end are clear) get −∞ before anything else (logit_bias, penalties, temperature, top-k/top-p), so
     * truncation only ever sees allowed tokens; the stop ids (EOS, stop_token_ids) are allowed only when
     * {@code accepting} (the grammar has a complete value), and min_tokens still bans them before that.
     *
     * @param allowed   the grammar's mask, or null: unconstrained
     * @param accepting whether the output so far is a complete value
     */
    public Sample sample(float[] logits, int numGenerated, long[] allowed, boolean accepting) {
        if (allowed != null) applyMask(logits, allowed, accepting);
        double logZ = 0;
        List<TokenLogprob> top = List.of();
        if (params.logprobs()) {
            // Raw logprobs must ignore everything below, which rewrites the array; keep one copy
            // per sequence (reused) rather than allocating a vocab-sized array per token.
            if (raw == null || raw.length != logits.length) raw = new float[logits.length];
            System.arraycopy(logits, 0, raw, 0, logits.length);
            logZ = RawLogprobs.logSumExp(raw);
            if (params.topLogprobs() > 0) top = RawLogprobs.top(raw, params.topLogprobs(), logZ);
        }
        process(logits, numGenerated);
        int token = params.isGreedy()
                ? Distribution.argmax(logits)
                : Distribution.sample(logits, params.temperature(), params.topK(), params.topP(), params.minP(),
                        rng.nextFloat());
        if (outputCounts != null) outputCounts.increment(token);
        float logprob = params.logprobs() ? RawLogprobs.logprob(raw[token], logZ) : Float.NaN;
        return new Sample(token, logprob, top);
    }

    /**
     * The seed of choice {@code choiceIndex}'s random stream, the one this class draws from: what a backend that
     * samples on the device gets for the choice, so the n choices differ there too.
     */
    public static long seedForChoice(long seed, int choiceIndex) { return XorShiftStar.seedForChoice(seed, choiceIndex); }

    /** The greedy choice: the largest logit, the lowest id on ties. */
    public static int argmax(float[] logits) { return Distribution.argmax(logits); }

    /**
     * Whether a generated token ends the completion (stop_token_ids, or EOS unless ignore_eos) —
     * applied only once numGenerated >= min_tokens. Pass the same {@code numGenerated} as to the
     * {@link #sample} call that produced the token (passing the count including it is also safe:
     * stop tokens cannot be sampled before min_tokens anyway).
     */
    public boolean isStopToken(int tokenId, int numGenerated) {
        return numGenerated >= params.minTokens() && Arrays.binarySearch(stopIds, tokenId) >= 0;
    }

    /** Masked tokens → −∞; the stop ids keep their logits only when the grammar accepts (or allows nothing else). */
    void applyMask(float[] logits, long[] allowed, boolean accepting) {
        int vocab = logits.length;
        float[] stopLogits = null;
        boolean any = false;
        if (accepting) {
            stopLogits = new float[stopIds.length];
            for (int i = 0; i < stopIds.length; i++) stopLogits[i] = stopIds[i] < vocab ? logits[stopIds[i]] : 0f;
        } else {
            // A grammar that allows nothing and is not accepting is a grammar bug: let the stop ids end the choice
            // rather than sample from all −∞.
            for (long w : allowed) if (w != 0) { any = true; break; }
            if (!any) {
                stopLogits = new float[stopIds.length];
                for (int i = 0; i < stopIds.length; i++) stopLogits[i] = stopIds[i] < vocab ? logits[stopIds[i]] : 0f;
            }
        }
        int words = Math.min(allowed.length, (vocab + 63) >>> 6);
        for (int w = 0; w < words; w++) {
            long bits = allowed[w];
            if (bits == -1L) continue;
            int base = w << 6;
            int end = Math.min(64, vocab - base);
            long clear = ~bits;
            if (end < 64) clear &= (1L << end) - 1;
            while (clear != 0) {
                int b = Long.numberOfTrailingZeros(clear);
                logits[base + b] = Float.NEGATIVE_INFINITY;
                clear &= clear - 1;
            }
        }
        for (int i = words << 6; i < vocab; i++) logits[i] = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < stopIds.length; i++) {
            if (stopIds[i] < vocab) logits[stopIds[i]] = stopLogits != null ? stopLogits[i] : Float.NEGATIVE_INFINITY;
        }
    }

    /** The logits processors, in vLLM's order; package-private so tests can check the arithmetic. */
    void process(float[] logits, int numGenerated) {
        int vocab = logits.length;
        for (int i = 0; i < biasIds.length; i++) {
            if (biasIds[i] < vocab) logits[biasIds[i]] += biasValues[i];
        }
        if (numGenerated < params.minTokens()) {
            for (int id : stopIds) if (id < vocab) logits[id] = Float.NEGATIVE_INFINITY;
        }
        if (repetition) applyRepetitionPenalty(logits);
        if (presenceOrFrequency) applyPresenceFrequency(logits);
    }

    /** vLLM/HF: seen tokens' positive logits are divided by the penalty, negative ones multiplied. */
    private void applyRepetitionPenalty(float[] logits) {
        float penalty = params.repetitionPenalty();
        for (int s = 0; s < promptSeen.capacity(); s++) {
            penalizeRepeated(logits, promptSeen.keyAt(s), penalty);
        }
        for (int s = 0; s < outputCounts.capacity(); s++) {
            int id = outputCounts.keyAt(s);
            if (id >= 0 && promptSeen.get(id) == 0) penalizeRepeated(logits, id, penalty); // once per token
        }
    }

    private static void penalizeRepeated(float[] logits, int id, float penalty) {
        if (id < 0 || id >= logits.length) return;
        float l = logits[id];
        logits[id] = l > 0f ? l / penalty : l * penalty;
    }

    /** OpenAI: logit -= frequency × count + presence × (count > 0), over generated tokens only. */
    private void applyPresenceFrequency(float[] logits) {
        float presence = params.presencePenalty(), frequency = params.frequencyPenalty();
        for (int s = 0; s < outputCounts.capacity(); s++) {
            int id = outputCounts.keyAt(s);
            if (id < 0 || id >= logits.length) continue;
            // Two subtractions in vLLM's order, so results match it to the last bit.
            logits[id] = (logits[id] - frequency * outputCounts.valueAt(s)) - presence;
        }
    }
}
