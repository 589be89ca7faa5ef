package io.basalt.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How a request's tokens are chosen and when it stops, with the OpenAI/vLLM meanings. Invalid
 * values are rejected here, so nothing downstream re-checks them. Build with {@link #builder()}.
 *
 * @param n                  number of completions sharing the prompt
 * @param temperature        0 = greedy (argmax)
 * @param topK               keep the k most likely tokens; 0 = off
 * @param topP               nucleus mass in (0, 1]; 1 = off
 * @param minP               drop tokens below minP × the top probability; 0 = off
 * @param repetitionPenalty  > 0; divides positive / multiplies negative logits of seen tokens; 1 = off
 * @param presencePenalty    [-2, 2], subtracted once from the logit of every generated token
 * @param frequencyPenalty   [-2, 2], subtracted per occurrence of every generated token
 * @param logitBias          token id → bias in [-100, 100], added before anything else
 * @param seed               the request's own random stream: same seed, same tokens, whatever the batch
 * @param logprobs           whether to return the chosen token's log-probability
 * @param topLogprobs        also the top 0..20 alternatives per position
 * @param stopTokenIds       tokens that end the completion (not emitted)
 * @param stop               strings that end the completion, matched on the text, not emitted
 * @param maxTokens          at most this many generated tokens
 * @param minTokens          EOS and stop tokens are suppressed until this many were generated
 * @param ignoreEos          keep going past the model's EOS tokens
 * @param constraint         what the output must be (response_format: a JSON object, a JSON Schema); empty = free text
 */
public record SamplingParams(int n, float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             float presencePenalty, float frequencyPenalty, Map<Integer, Float> logitBias, long seed,
                             boolean logprobs, int topLogprobs, int[] stopTokenIds, List<String> stop, int maxTokens,
                             int minTokens, boolean ignoreEos, Optional<Constraint> constraint) {
    public static final int MAX_N = 16;
    public static final int MAX_TOP_LOGPROBS = 20;
    public static final int MAX_STOP_STRINGS = 16;

    public SamplingParams {
        require(n >= 1 && n <= MAX_N, "n must be between 1 and " + MAX_N + ", got " + n);
        require(temperature >= 0f && Float.isFinite(temperature), "temperature must be a finite number >= 0, got " + temperature);
        require(topK >= 0, "top_k must be >= 0 (0 disables it), got " + topK);
        require(topP > 0f && topP <= 1f, "top_p must be in (0, 1], got " + topP);
        require(minP >= 0f && minP <= 1f, "min_p must be in [0, 1], got " + minP);
        require(repetitionPenalty > 0f && Float.isFinite(repetitionPenalty), "repetition_penalty must be > 0, got " + repetitionPenalty);
        require(presencePenalty >= -2f && presencePenalty <= 2f, "presence_penalty must be in [-2, 2], got " + presencePenalty);
        require(frequencyPenalty >= -2f && frequencyPenalty <= 2f, "frequency_penalty must be in [-2, 2], got " + frequencyPenalty);
        logitBias = Map.copyOf(logitBias);
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            require(e.getKey() >= 0, "logit_bias token ids must be >= 0, got " + e.getKey());
            require(e.getValue() >= -100f && e.getValue() <= 100f, "logit_bias values must be in [-100, 100], got " + e.getValue());
        }
        require(topLogprobs >= 0 && topLogprobs <= MAX_TOP_LOGPROBS, "top_logprobs must be between 0 and " + MAX_TOP_LOGPROBS
                + ", got " + topLogprobs);
        stopTokenIds = stopTokenIds.clone();
        for (int id : stopTokenIds) require(id >= 0, "stop token ids must be >= 0, got " + id);
        stop = List.copyOf(stop);
        require(stop.size() <= MAX_STOP_STRINGS, "at most " + MAX_STOP_STRINGS + " stop strings, got " + stop.size());
        for (String s : stop) require(!s.isEmpty(), "stop strings must not be empty");
        require(maxTokens >= 1, "max_tokens must be >= 1, got " + maxTokens);
        require(minTokens >= 0 && minTokens <= maxTokens, "min_tokens must be in [0, max_tokens], got " + minTokens);
        Objects.requireNonNull(constraint, "constraint (Optional.empty() for none)");
    }


    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    @Override
    public int[] stopTokenIds() { return stopTokenIds.clone(); }

    public boolean isGreedy() { return temperature == 0f; }

    public static SamplingParams greedy(int maxTokens) { return builder().temperature(0f).maxTokens(maxTokens).build(); }

    public static Builder builder() { return new Builder(); }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.n = n; b.temperature = temperature; b.topK = topK; b.topP = topP; b.minP = minP;
        b.repetitionPenalty = repetitionPenalty; b.presencePenalty = presencePenalty; b.frequencyPenalty = frequencyPenalty;
        b.logitBias = logitBias; b.seed = seed; b.logprobs = logprobs; b.topLogprobs = topLogprobs;
        b.stopTokenIds = stopTokenIds; b.stop = stop; b.maxTokens = maxTokens; b.minTokens = minTokens; b.ignoreEos = ignoreEos;
        b.constraint = constraint;
        return b;
    }

    /** Defaults follow the OpenAI API: temperature 1, top_p 1, max_tokens 16, a random seed. */
    public static final class Builder {
        private int n = 1;
        private float temperature = 1f;
        private int topK = 0;
        private float topP = 1f;
        private float minP = 0f;
        private float repetitionPenalty = 1f;
        private float presencePenalty = 0f;
        private float frequencyPenalty = 0f;
        private Map<Integer, Float> logitBias = Map.of();
        private long seed = java.util.concurrent.ThreadLocalRandom.current().nextLong();
        private boolean logprobs = false;
        private int topLogprobs = 0;
        private int[] stopTokenIds = new int[0];
        private List<String> stop = List.of();
        private int maxTokens = 16;
        private int minTokens = 0;
        private boolean ignoreEos = false;
        private Optional<Constraint> constraint = Optional.empty();

        public Builder n(int v) { n = v; return this; }
        public Builder temperature(float v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(float v) { topP = v; return this; }
        public Builder minP(float v) { minP = v; return this; }
        public Builder repetitionPenalty(float v) { repetitionPenalty = v; return this; }
        public Builder presencePenalty(float v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(float v) { frequencyPenalty = v; return this; }
        public Builder logitBias(Map<Integer, Float> v) { logitBias = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder logprobs(boolean v) { logprobs = v; return this; }
        public Builder topLogprobs(int v) { topLogprobs = v; return this; }
        public Builder stopTokenIds(int... v) { stopTokenIds = v; return this; }
        public Builder stop(List<String> v) { stop = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder minTokens(int v) { minTokens = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        /** The output's constraint, or null for none (free text). */
        public Builder constraint(Constraint v) { constraint = Optional.ofNullable(v); return this; }

        public SamplingParams build() {
            return new SamplingParams(n, temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                    logitBias, seed, logprobs, topLogprobs, stopTokenIds, stop, maxTokens, minTokens, ignoreEos, constraint);
        }
    }
}
