package io.basalt.engine;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.model.arch.KvCache;
import io.basalt.model.arch.Model;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Single-sequence generation: prefill the prompt, then sample one token per step until a stop
 * token, max_tokens, or the context length. (The continuous-batching engine supersedes this for
 * serving; the CLI and the tests use it directly.)
 */
public final class Generator {
    private Generator() {}

    public record Result(int[] tokens, FinishReason finishReason, int numPromptTokens, long prefillNanos, long decodeNanos) {
        /** Decode throughput, excluding the first token (which costs the prefill). */
        public double decodeTokensPerSecond() {
            return tokens.length > 1 && decodeNanos > 0 ? (tokens.length - 1) * 1e9 / decodeNanos : 0;
        }
    }

    /**
     * @param stopIds the model's EOS tokens, which end the generation (not included in the result)
     * @param onToken called with each generated token as soon as it is chosen
     */
    public static Result generate(Model model, int[] prompt, SamplingParams params, int[] stopIds, IntConsumer onToken) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt must contain at least one token");
        int maxPositions = model.info().maxPositions();
        if (prompt.length > maxPositions) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens exceeds the model's context length of "
                    + maxPositions);
        }
        SequenceSampler sampler = new SequenceSampler(params, 0, prompt, stopIds);
        KvCache cache = model.newCache();
        long t0 = System.nanoTime();
        float[] logits = model.forward(cache, prompt, Model.Logits.LAST)[0];
        long prefill = System.nanoTime() - t0;
        int[] out = new int[Math.min(params.maxTokens(), 1024)];
        int n = 0;
        FinishReason finish = FinishReason.LENGTH;
        long t1 = System.nanoTime();
        while (n < params.maxTokens()) {
            int next = sampler.sample(logits, n).tokenId();
            if (sampler.isStopToken(next, n)) {
                finish = FinishReason.STOP;
                break;
            }
            if (n == out.length) out = Arrays.copyOf(out, out.length * 2);
            out[n++] = next;
            onToken.accept(next);
            if (n == params.maxTokens() || cache.length() >= maxPositions) break;
            logits = model.forward(cache, new int[] {next}, Model.Logits.LAST)[0];
        }
        return new Result(Arrays.copyOf(out, n), finish, prompt.length, prefill, System.nanoTime() - t1);
    }

}
