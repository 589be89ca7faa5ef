package io.basalt.engine.sampling;

import java.util.List;

/**
 * The chosen token and, when {@code params.logprobs()}, its log-probability and the top
 * {@code params.topLogprobs()} alternatives. Log-probabilities come from the RAW model distribution
 * (log_softmax of the logits before bias, penalties, temperature or truncation — vLLM's default
 * "raw logprobs"), so they describe the model, not the sampler settings. {@code topLogprobs} is
 * sorted by descending logprob (ties: lower id first) and is empty when not requested.
 *
 * @param tokenId     the chosen token
 * @param logprob     its raw log-probability, or NaN when logprobs were not requested
 * @param topLogprobs the most likely alternatives (may or may not contain {@code tokenId})
 */
public record Sample(int tokenId, float logprob, List<TokenLogprob> topLogprobs) {
    public Sample {
        topLogprobs = List.copyOf(topLogprobs);
    }
}
