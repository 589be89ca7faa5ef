package io.basalt.engine;

import io.basalt.api.SamplingParams;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.spi.SequenceInput;

/**
 * What a backend that samples on the device ({@code Capabilities.onDeviceSampling}) is sent, and what it cannot
 * do. Its graph takes per-sequence scalars (temperature, top-k, top-p, min-p, a seed and the token's index);
 * logit_bias, the penalties and min_tokens change logits by token id with per-request state, and logprobs need
 * the logits back, so requests asking for them are refused at submit instead of being answered wrongly.
 */
final class DeviceSampling {
    private static final String TAKES = "it samples on the device, which applies only temperature, top_k, top_p, min_p and seed";

    private DeviceSampling() { }

    /** @throws IllegalArgumentException naming the first parameter such a backend cannot apply */
    static void checkSupported(SamplingParams p) {
        refuseIf(!p.logitBias().isEmpty(), "logit_bias");
        refuseIf(p.repetitionPenalty() != 1f, "repetition_penalty");
        refuseIf(p.presencePenalty() != 0f, "presence_penalty");
        refuseIf(p.frequencyPenalty() != 0f, "frequency_penalty");
        refuseIf(p.minTokens() > 0, "min_tokens");
        refuseIf(p.logprobs(), "logprobs");
        refuseIf(p.topLogprobs() > 0, "top_logprobs");
        // Masks need the logits; a tagged constraint (strict tools) as much as response_format.
        refuseIf(p.constraint().isPresent(), p.constraint().orElse(null) instanceof io.basalt.api.Constraint.Tagged
                ? "strict tools" : "response_format");
    }

    private static void refuseIf(boolean asked, String parameter) {
        if (asked) throw new IllegalArgumentException(parameter + " is not supported by this backend: " + TAKES);
    }

    /** The draw of {@code seq}'s next token: its request's parameters, its choice's stream, its output index. */
    static SequenceInput.Sampling of(Sequence seq) {
        SamplingParams p = seq.request.request.params();
        return new SequenceInput.Sampling(p.temperature(), p.topK(), p.topP(), p.minP(),
                SequenceSampler.seedForChoice(p.seed(), seq.choiceIndex), seq.numGenerated());
    }
}
