package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.SamplingParams;
import java.util.Random;

/** What engine tests share, whatever the runner: configurations, request parameters, stepping. */
public final class EngineTests {
    private EngineTests() {}

    /**
     * The small KV pools these tests use (to make preemption happen) hold less than the model's context, which the
     * engine refuses: they serve what the pool holds, as a user does with --max-model-len.
     */
    public static EngineConfig fitting(io.basalt.spi.ModelRunner runner, EngineConfig config) {
        if (config.maxModelLen() > 0) return config;
        var caps = runner.capabilities();
        long pool = caps.kvLayout() instanceof io.basalt.spi.KvLayout.Paged p ? (long) caps.numKvBlocks() * p.blockSize() : Long.MAX_VALUE;
        return pool >= runner.spec().maxPositions() ? config : config.withMaxModelLen((int) pool);
    }

    /** Greedy, ignore_eos, with the chosen token's logprob and the top 5. */
    public static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).logprobs(true).topLogprobs(5)
                .build();
    }

    public static int[] randomTokens(Random rnd, int length, int vocab) {
        int[] t = new int[length];
        for (int i = 0; i < length; i++) t[i] = 3 + rnd.nextInt(vocab - 3);  // skip unk/bos/eos-like low ids
        return t;
    }

    public static RequestHandle.Result done(RequestHandle h) {
        assertTrue(h.result().isDone(), "request " + h.requestId() + " did not complete");
        return h.result().join();
    }

    /** Steps until idle, failing instead of spinning forever. */
    public static int runUntilIdle(Engine engine, int maxSteps) {
        int steps = 0;
        while (engine.hasWork()) {
            engine.step();
            if (++steps > maxSteps) throw new AssertionError("the engine did not go idle within " + maxSteps + " steps");
        }
        return steps;
    }

    /**
     * Submits request i at step {@code arrival[i]}, aborts it at step {@code abortAt[i]} (-1: never), and steps the
     * engine until everything has finished; returns the handles in request order.
     */
    public static RequestHandle[] runWithArrivals(Engine engine, EngineRequest[] requests, int[] arrival, int[] abortAt) {
        int count = requests.length;
        RequestHandle[] handles = new RequestHandle[count];
        int submitted = 0;
        for (int step = 0; submitted < count || engine.hasWork(); step++) {
            for (int i = 0; i < count; i++) {
                if (arrival[i] == step) {
                    handles[i] = engine.submit(requests[i]);
                    submitted++;
                }
                if (abortAt[i] == step) engine.abort(requests[i].requestId());
            }
            engine.step();
            assertTrue(step < 50_000, "the engine does not finish");
        }
        return handles;
    }
}
