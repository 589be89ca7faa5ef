package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.Constraint;
import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.engine.sampling.SequenceSampler;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.ShapePolicy;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Backends whose graphs sample ({@code Capabilities.onDeviceSampling}), through {@link FakeRunner} playing such a
 * device: the runner gets each sequence's sampling parameters and returns sampled ids, never logits; the engine
 * applies the stop rules to those ids and refuses, at submit, what a device cannot apply.
 */
class OnDeviceSamplingTest {
    private static final int VOCAB = 512;
    private static final Tokenizer TOKENIZER = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), VOCAB);
    private static final float TEMPERATURE = 0.8f;

    private static FakeRunner deviceRunner(Capabilities caps) {
        return new FakeRunner(VOCAB, 1024, FakeRunner.samplingOnDevice(caps));
    }

    private static FakeRunner dynamicDevice() {
        return deviceRunner(FakeRunner.capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(16), 64));
    }

    private static SamplingParams.Builder greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true);
    }

    /** The tokens the fake device gives choice {@code c} of a request. */
    private static int[] expected(int[] prompt, SamplingParams p, int c, int length) {
        return p.isGreedy() ? FakeRunner.expected(prompt, length, VOCAB)
                : FakeRunner.expectedDrawn(prompt, length, SequenceSampler.seedForChoice(p.seed(), c), VOCAB);
    }

    /**
     * Randomized runs on three device-like capability sets (dynamic, bucketed without mixed steps, slots), paged pools
     * small enough to preempt: greedy and seeded requests, n 1–3, priorities, aborts. Every choice must be what the
     * device draws from the request's parameters, the choice's stream and the token's index, whatever the batch and
     * however often it was preempted and recomputed.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void sampledIdsDriveEveryRequestToTheTokensTheDeviceDraws(int config) {
        Capabilities caps = switch (config) {
            case 0 -> FakeRunner.capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(16), 20);
            case 1 -> FakeRunner.capabilities(new ShapePolicy.Bucketed(List.of(new ShapePolicy.Bucket(1, 64),
                    new ShapePolicy.Bucket(4, 64), new ShapePolicy.Bucket(8, 8))), false, new KvLayout.Paged(16), 24);
            default -> FakeRunner.capabilities(new ShapePolicy.Bucketed(List.of(new ShapePolicy.Bucket(1, 128),
                    new ShapePolicy.Bucket(4, 4))), false, new KvLayout.Slots(4, 128), 4);
        };
        FakeRunner runner = deviceRunner(caps);
        Random rnd = new Random(200 + config);
        int count = 80;
        int[] shared = EngineTests.randomTokens(rnd, 33, VOCAB);
        EngineRequest[] requests = new EngineRequest[count];
        int[] arrival = new int[count];
        int[] abortAt = new int[count];
        for (int i = 0; i < count; i++) {
            int[] prompt = EngineTests.randomTokens(rnd, 1 + rnd.nextInt(80), VOCAB);
            if (i % 4 == 3) prompt = concat(shared, EngineTests.randomTokens(rnd, 1 + rnd.nextInt(20), VOCAB));
            runner.registerPrompt(prompt);
            SamplingParams.Builder p = greedy(1 + rnd.nextInt(24)).n(1 + rnd.nextInt(3));
            if (i % 2 == 1) p.temperature(TEMPERATURE).topK(40).topP(0.9f).seed(rnd.nextLong());
            requests[i] = new EngineRequest("d" + i, prompt, p.build(), rnd.nextInt(3));
            arrival[i] = rnd.nextInt(200);
            abortAt[i] = rnd.nextInt(100) < 10 ? arrival[i] + rnd.nextInt(20) : -1;
        }
        try (Engine engine = new Engine(runner, TOKENIZER, EngineTests.fitting(runner, EngineConfig.defaults().withMaxNumBatchedTokens(96)))) {
            RequestHandle[] handles = EngineTests.runWithArrivals(engine, requests, arrival, abortAt);
            EngineStats s = engine.stats();
            assertEquals(0, s.kvUsedBlocks());
            assertEquals(0, s.numLiveKvSequences());
            if (caps.kvLayout() instanceof KvLayout.Paged) assertTrue(s.numPreemptions() > 0, "the small pool should preempt");
            int maxLen = engine.maxModelLen();
            for (int i = 0; i < count; i++) {
                SamplingParams p = requests[i].params();
                int[] prompt = requests[i].promptTokens();
                RequestHandle.Result r = EngineTests.done(handles[i]);
                assertEquals(p.n(), r.choices().size());
                for (RequestHandle.Choice c : r.choices()) {
                    String what = "config " + config + " request " + i + " choice " + c.index() + " " + c.finishReason();
                    int[] want = expected(prompt, p, c.index(), Math.min(p.maxTokens(), maxLen - prompt.length));
                    if (c.finishReason() == FinishReason.ABORT) {
                        assertTrue(abortAt[i] >= 0, what);
                        assertArrayEquals(Arrays.copyOf(want, c.tokenIds().length), c.tokenIds(), what);
                    } else {
                        assertEquals(FinishReason.LENGTH, c.finishReason(), what);
                        assertArrayEquals(want, c.tokenIds(), what);
                    }
                }
            }
        }
        // What reached the device: each request's own parameters, never a default.
        for (FakeRunner.Step st : runner.batches) {
            for (SequenceInput in : st.inputs()) {
                SequenceInput.Sampling s = in.sampling();
                assertTrue(s.isGreedy() || (s.temperature() == TEMPERATURE && s.topK() == 40 && s.topP() == 0.9f), s.toString());
            }
        }
    }

    @Test
    void theChoicesOfASeededRequestDrawFromTheirOwnStreams() {
        FakeRunner runner = dynamicDevice();
        int[] prompt = EngineTests.randomTokens(new Random(5), 21, VOCAB);
        runner.registerPrompt(prompt);
        SamplingParams p = greedy(12).temperature(TEMPERATURE).seed(42).n(3).build();
        try (Engine engine = new Engine(runner, TOKENIZER, EngineConfig.defaults())) {
            RequestHandle h = engine.submit(new EngineRequest("n3", prompt, p, 0));
            EngineTests.runUntilIdle(engine, 1000);
            List<RequestHandle.Choice> choices = EngineTests.done(h).choices();
            for (RequestHandle.Choice c : choices) assertArrayEquals(expected(prompt, p, c.index(), 12), c.tokenIds(), "choice " + c.index());
            assertFalse(Arrays.equals(choices.get(0).tokenIds(), choices.get(1).tokenIds()), "choices 0 and 1 drew alike");
            assertFalse(Arrays.equals(choices.get(1).tokenIds(), choices.get(2).tokenIds()), "choices 1 and 2 drew alike");
        }
        // Choices 1 and 2 recomputed the prompt's last token to draw their first token, at step index 0.
        long redraws = runner.batches.stream().flatMap(st -> st.inputs().stream())
                .filter(in -> in.startPosition() == prompt.length - 1 && in.numTokens() == 1 && in.sampling().step() == 0).count();
        assertEquals(2, redraws);
    }

    @Test
    void stopTokensStopStringsAndMaxTokensApplyToSampledIds() {
        int[] prompt = EngineTests.randomTokens(new Random(6), 9, VOCAB);
        int[] all = FakeRunner.expected(prompt, 16, VOCAB);
        int stopAt = 3;
        while (contains(Arrays.copyOf(all, stopAt), all[stopAt])) stopAt++;
        FakeRunner runner = dynamicDevice();
        runner.registerPrompt(prompt);
        try (Engine engine = new Engine(runner, TOKENIZER, EngineConfig.defaults())) {
            RequestHandle full = engine.submit(new EngineRequest("full", prompt, greedy(16).build(), 0));
            RequestHandle byToken = engine.submit(new EngineRequest("token", prompt, greedy(16).stopTokenIds(all[stopAt]).build(), 0));
            RequestHandle byLength = engine.submit(new EngineRequest("length", prompt, greedy(5).build(), 0));
            EngineTests.runUntilIdle(engine, 1000);
            RequestHandle.Choice f = EngineTests.done(full).choices().get(0);
            assertArrayEquals(all, f.tokenIds());
            RequestHandle.Choice t = EngineTests.done(byToken).choices().get(0);
            assertEquals(FinishReason.STOP, t.finishReason());
            assertArrayEquals(Arrays.copyOf(all, stopAt), t.tokenIds(), "the stop token ends the choice and is not emitted");
            RequestHandle.Choice l = EngineTests.done(byLength).choices().get(0);
            assertEquals(FinishReason.LENGTH, l.finishReason());
            assertArrayEquals(Arrays.copyOf(all, 5), l.tokenIds());

            String text = f.text();
            assertTrue(text.length() >= 6, "the fake model's text is too short to stop in: '" + text + "'");
            String stop = text.substring(text.length() / 2, text.length() / 2 + 2);
            RequestHandle byString = engine.submit(new EngineRequest("string", prompt, greedy(16).stop(List.of(stop)).build(), 0));
            EngineTests.runUntilIdle(engine, 1000);
            RequestHandle.Choice s = EngineTests.done(byString).choices().get(0);
            assertEquals(FinishReason.STOP, s.finishReason());
            assertEquals(text.substring(0, text.indexOf(stop)), s.text(), "the text stops before the stop string");
        }
    }

    @Test
    void whatTheDeviceCannotApplyIsRefusedAtSubmitNamingTheParameter() {
        Map<String, UnaryOperator<SamplingParams.Builder>> refused = Map.of(
                "logit_bias", b -> b.logitBias(Map.of(7, 5f)),
                "repetition_penalty", b -> b.repetitionPenalty(1.2f),
                "presence_penalty", b -> b.presencePenalty(0.5f),
                "frequency_penalty", b -> b.frequencyPenalty(-0.5f),
                "min_tokens", b -> b.minTokens(2),
                "logprobs", b -> b.logprobs(true),
                "top_logprobs", b -> b.topLogprobs(3),
                "response_format", b -> b.constraint(new Constraint.JsonObject()),
                "strict tools", b -> b.constraint(new Constraint.Tagged(List.of(new Constraint.Tag(new int[] {9, 10}, "{\"type\":\"object\"}")))));
        int[] prompt = {5, 6, 7};
        FakeRunner device = dynamicDevice();
        FakeRunner host = new FakeRunner(VOCAB, 1024, FakeRunner.capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(16), 64));
        try (Engine onDevice = new Engine(device, TOKENIZER, EngineConfig.defaults());
             Engine onHost = new Engine(host, TOKENIZER, EngineConfig.defaults())) {
            for (var e : refused.entrySet()) {
                SamplingParams p = e.getValue().apply(SamplingParams.builder().maxTokens(4)).build();
                var thrown = assertThrows(IllegalArgumentException.class,
                        () -> onDevice.submit(new EngineRequest("r-" + e.getKey(), prompt, p, 0)), e.getKey());
                assertTrue(thrown.getMessage().startsWith(e.getKey() + " is not supported"), thrown.getMessage());
                assertDoesNotThrow(() -> onHost.submit(new EngineRequest("h-" + e.getKey(), prompt, p, 0)), "the host samples " + e.getKey());
            }
            SamplingParams supported = SamplingParams.builder().temperature(0.7f).topK(5).topP(0.5f).minP(0.1f).seed(3)
                    .stop(List.of("x")).stopTokenIds(9).maxTokens(4).build();
            RequestHandle ok = onDevice.submit(new EngineRequest("ok", prompt, supported, 0));
            EngineTests.runUntilIdle(onDevice, 100);
            assertEquals(0, onDevice.stats().numRunning() + onDevice.stats().numWaiting());
            assertNull(EngineTests.done(ok).choices().get(0).error());
            assertTrue(device.batches.stream().allMatch(st -> st.inputs().get(0).sampling()
                    .equals(new SequenceInput.Sampling(0.7f, 5, 0.5f, 0.1f, 3, st.inputs().get(0).sampling().step()))));
        }
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
