package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ShapePolicy;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scheduler against backends with other capabilities than the CPU's, through {@link FakeRunner} (which
 * checks every batch against the backend contract and computes context-dependent "logits"):
 * BUCKETED shapes without mixed prefill/decode on a paged pool, and SLOTS.
 */
class FakeBackendSchedulingTest {
    private static final int VOCAB = 512;
    private static final Tokenizer TOKENIZER = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), VOCAB);

    private static SamplingParams greedy(int maxTokens, int n) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).n(n).ignoreEos(true).build();
    }

    /** Prompts whose first token is unique, plus a few sharing a 40-token prefix (prefix-cache hits). */
    private static int[][] prompts(Random rnd, int count, int maxLen, int[] sharedPrefix) {
        int[][] prompts = new int[count][];
        for (int i = 0; i < count; i++) {
            int len = 1 + rnd.nextInt(maxLen);
            int[] p = EngineTests.randomTokens(rnd, len, VOCAB);
            if (sharedPrefix != null && i % 4 == 3) {
                p = Arrays.copyOf(sharedPrefix, sharedPrefix.length + 1 + rnd.nextInt(20));
                for (int k = sharedPrefix.length; k < p.length; k++) p[k] = 3 + rnd.nextInt(VOCAB - 3);
            }
            prompts[i] = p;
        }
        return prompts;
    }

    @Test
    void bucketedBackendOnlySeesCompiledShapesAndNeverMixesPrefillWithDecode() {
        List<ShapePolicy.Bucket> buckets = List.of(new ShapePolicy.Bucket(1, 64), new ShapePolicy.Bucket(4, 64),
                new ShapePolicy.Bucket(8, 8));
        // 40 blocks of 16: eight sequences of up to ~190 positions do not fit, so preemption happens too.
        FakeRunner runner = new FakeRunner(VOCAB, 1024, FakeRunner.capabilities(new ShapePolicy.Bucketed(buckets), false,
                new KvLayout.Paged(16), 40));
        Random rnd = new Random(11);
        int count = 40;
        int[][] prompts = prompts(rnd, count, 150, EngineTests.randomTokens(rnd, 40, VOCAB));
        int[] maxTokens = new int[count];
        int[] n = new int[count];
        int[] arrival = new int[count];
        for (int i = 0; i < count; i++) {
            runner.registerPrompt(prompts[i]);
            maxTokens[i] = 1 + rnd.nextInt(30);
            n[i] = i % 5 == 0 ? 2 : 1;
            arrival[i] = rnd.nextInt(80);
        }
        RequestHandle[] handles = new RequestHandle[count];
        try (Engine engine = new Engine(runner, TOKENIZER, EngineTests.fitting(runner, EngineConfig.defaults()))) {
            int submitted = 0;
            for (int step = 0; submitted < count || engine.hasWork(); step++) {
                for (int i = 0; i < count; i++) {
                    if (arrival[i] == step) {
                        handles[i] = engine.submit(new EngineRequest("b" + i, prompts[i], greedy(maxTokens[i], n[i]), 0));
                        submitted++;
                    }
                }
                engine.step();
                assertTrue(engine.stats().numRunning() <= 8, "more sequences running than the largest bucket holds");
                assertTrue(step < 20_000, "the engine does not finish");
            }
            for (int i = 0; i < count; i++) {
                RequestHandle.Result r = EngineTests.done(handles[i]);
                int[] expected = FakeRunner.expected(prompts[i], maxTokens[i], VOCAB);
                assertEquals(n[i], r.choices().size());
                for (RequestHandle.Choice c : r.choices()) {
                    assertEquals(FinishReason.LENGTH, c.finishReason(), "request " + i);
                    assertArrayEquals(expected, c.tokenIds(), "request " + i + " choice " + c.index());
                }
            }
            EngineStats s = engine.stats();
            assertEquals(0, s.kvUsedBlocks());
            assertEquals(0, s.numLiveKvSequences());
            assertTrue(s.prefixHitTokens() > 0, "the shared prefixes should hit the cache");
            assertTrue(s.numPreemptions() > 0, "the 40-block pool should force preemptions");
        }
        Set<ShapePolicy.Bucket> used = new HashSet<>();
        int prefillSteps = 0, decodeSteps = 0;
        for (FakeRunner.Step st : runner.batches) {
            used.add(st.paddedShape());
            if (st.prefill()) prefillSteps++;
            else decodeSteps++;
        }
        assertEquals(Set.copyOf(buckets), used, "every bucket should have been needed by this workload");
        assertTrue(prefillSteps > 0 && decodeSteps > 0);
    }

    /**
     * A prompt one token longer than the step budget leaves a 1-token prefill chunk (startPosition 64 of a
     * 65-token prompt). It is still prefill, so it must not ride along with another request's decodes.
     */
    @Test
    void aOneTokenPromptRemainderIsPrefillNotDecode() {
        FakeRunner runner = new FakeRunner(VOCAB, 1024, FakeRunner.capabilities(new ShapePolicy.Bucketed(List.of(
                new ShapePolicy.Bucket(1, 64), new ShapePolicy.Bucket(4, 64), new ShapePolicy.Bucket(8, 8))), false,
                new KvLayout.Paged(16), 64));
        Random rnd = new Random(13);
        int[] a = EngineTests.randomTokens(rnd, 10, VOCAB);
        int[] b = EngineTests.randomTokens(rnd, 65, VOCAB);
        runner.registerPrompt(a);
        runner.registerPrompt(b);
        try (Engine engine = new Engine(runner, TOKENIZER, EngineTests.fitting(runner, EngineConfig.defaults()))) {
            RequestHandle ha = engine.submit(new EngineRequest("a", a, greedy(20, 1), 0));
            engine.step();
            engine.step();  // a decodes
            RequestHandle hb = engine.submit(new EngineRequest("b", b, greedy(5, 1), 0));
            EngineTests.runUntilIdle(engine, 1000);
            assertArrayEquals(FakeRunner.expected(a, 20, VOCAB), EngineTests.done(ha).choices().get(0).tokenIds());
            assertArrayEquals(FakeRunner.expected(b, 5, VOCAB), EngineTests.done(hb).choices().get(0).tokenIds());
        }
        assertTrue(runner.batches.stream().anyMatch(st -> st.prefill() && st.inputs().size() == 1
                && st.inputs().get(0).startPosition() == 64 && st.inputs().get(0).numTokens() == 1),
                "the prompt's last token ran as its own prefill step");
    }

    /**
     * The other way round: a preempted sequence whose KV is still in the prefix cache up to its last token comes
     * back with a 1-token chunk past its prompt. That is a decode, so it must not join another request's prefill.
     * Pool of 3 blocks: "a" (16-token prompt, priority 1) needs a 2nd block for position 16 while "b" holds the
     * other two, so "a" preempts itself with 17 tokens and block 0 cached; when "b" ends, "a" (1 token from the
     * cache hit) and "c" (an 8-token prompt queued behind it) are admitted in the same pass.
     */
    @Test
    void aSequenceResumedFromTheCacheOneTokenPastItsPromptIsADecode() {
        FakeRunner runner = new FakeRunner(VOCAB, 1024, FakeRunner.capabilities(new ShapePolicy.Bucketed(List.of(
                new ShapePolicy.Bucket(1, 64), new ShapePolicy.Bucket(4, 64), new ShapePolicy.Bucket(8, 8))), false,
                new KvLayout.Paged(16), 3));
        Random rnd = new Random(14);
        int[] a = EngineTests.randomTokens(rnd, 16, VOCAB);
        int[] b = EngineTests.randomTokens(rnd, 20, VOCAB);
        int[] c = EngineTests.randomTokens(rnd, 8, VOCAB);
        for (int[] p : new int[][] {a, b, c}) runner.registerPrompt(p);
        try (Engine engine = new Engine(runner, TOKENIZER, EngineTests.fitting(runner, EngineConfig.defaults()))) {
            RequestHandle ha = engine.submit(new EngineRequest("a", a, greedy(10, 1), 1));
            RequestHandle hb = engine.submit(new EngineRequest("b", b, greedy(5, 1), 0));
            engine.step();
            engine.step();
            assertEquals(1, engine.stats().numPreemptions(), "a preempted itself");
            RequestHandle hc = engine.submit(new EngineRequest("c", c, greedy(4, 1), 2));
            EngineTests.runUntilIdle(engine, 1000);
            assertTrue(engine.stats().prefixHitTokens() >= 16, "a came back from the cache");
            assertArrayEquals(FakeRunner.expected(a, 10, VOCAB), EngineTests.done(ha).choices().get(0).tokenIds());
            assertArrayEquals(FakeRunner.expected(b, 5, VOCAB), EngineTests.done(hb).choices().get(0).tokenIds());
            assertArrayEquals(FakeRunner.expected(c, 4, VOCAB), EngineTests.done(hc).choices().get(0).tokenIds());
            assertEquals(0, engine.stats().kvUsedBlocks());
        }
        assertTrue(runner.batches.stream().anyMatch(st -> !st.prefill() && st.inputs().stream()
                .anyMatch(in -> in.startPosition() == 16 && in.numTokens() == 1 && in.blockTable().length == 2)),
                "a resumed from its cached block with a decode");
    }

    /**
     * Randomized runs over several capability sets (bucketed or dynamic, mixed or not, paged pools small enough
     * to preempt, slots): 150 requests with shared prefixes, n 1–3, priorities and ~15% aborts. The FakeRunner
     * checks every batch; every output must equal the fake model's greedy continuation (a prefix of it when
     * aborted), and nothing may be left behind.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void randomizedWorkloadsOnOtherBackends(int config) {
        List<ShapePolicy.Bucket> neuronLike = List.of(new ShapePolicy.Bucket(1, 64), new ShapePolicy.Bucket(4, 64),
                new ShapePolicy.Bucket(8, 8));
        var caps = switch (config) {
            case 0 -> FakeRunner.capabilities(new ShapePolicy.Bucketed(neuronLike), false, new KvLayout.Paged(16), 24);
            case 1 -> FakeRunner.capabilities(new ShapePolicy.Bucketed(List.of(new ShapePolicy.Bucket(2, 32),
                    new ShapePolicy.Bucket(8, 16), new ShapePolicy.Bucket(16, 128))), true, new KvLayout.Paged(8), 40);
            case 2 -> FakeRunner.capabilities(new ShapePolicy.Dynamic(), false, new KvLayout.Paged(16), 20);
            case 3 -> FakeRunner.capabilities(new ShapePolicy.Bucketed(List.of(new ShapePolicy.Bucket(1, 128),
                    new ShapePolicy.Bucket(4, 4))), false, new KvLayout.Slots(4, 128), 4);
            default -> FakeRunner.capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Slots(3, 96), 3);
        };
        FakeRunner runner = new FakeRunner(VOCAB, 1024, caps);
        Random rnd = new Random(100 + config);
        int count = 150;
        int[][] prompts = prompts(rnd, count, 90, EngineTests.randomTokens(rnd, 33, VOCAB));
        int[] maxTokens = new int[count];
        int[] arrival = new int[count];
        int[] abortAt = new int[count];
        EngineRequest[] requests = new EngineRequest[count];
        for (int i = 0; i < count; i++) {
            runner.registerPrompt(prompts[i]);
            maxTokens[i] = 1 + rnd.nextInt(24);
            arrival[i] = rnd.nextInt(300);
            abortAt[i] = rnd.nextInt(100) < 15 ? arrival[i] + rnd.nextInt(30) : -1;
            requests[i] = new EngineRequest("f" + i, prompts[i], greedy(maxTokens[i], 1 + rnd.nextInt(3)), rnd.nextInt(3));
        }
        try (Engine engine = new Engine(runner, TOKENIZER, EngineTests.fitting(runner, EngineConfig.defaults().withMaxNumBatchedTokens(96)))) {
            RequestHandle[] handles = EngineTests.runWithArrivals(engine, requests, arrival, abortAt);
            EngineStats s = engine.stats();
            assertEquals(0, s.kvUsedBlocks());
            assertEquals(0, s.numLiveKvSequences());
            assertEquals(0, s.numRunning() + s.numWaiting());
            if (caps.kvLayout() instanceof KvLayout.Slots) assertEquals(0, s.numPreemptions(), "SLOTS never preempt");
            else assertTrue(s.numPreemptions() > 0, "the small pool should preempt");
            int maxLen = engine.maxModelLen();
            for (int i = 0; i < count; i++) {
                RequestHandle.Result r = EngineTests.done(handles[i]);
                int expectedLength = Math.min(maxTokens[i], maxLen - prompts[i].length);
                int[] expected = FakeRunner.expected(prompts[i], expectedLength, VOCAB);
                assertEquals(requests[i].params().n(), r.choices().size());
                for (RequestHandle.Choice c : r.choices()) {
                    String what = "config " + config + " request " + i + " choice " + c.index() + " " + c.finishReason();
                    if (c.finishReason() == FinishReason.ABORT) {
                        assertTrue(abortAt[i] >= 0, what);
                        assertArrayEquals(Arrays.copyOf(expected, c.tokenIds().length), c.tokenIds(), what);
                    } else {
                        assertEquals(FinishReason.LENGTH, c.finishReason(), what);
                        assertArrayEquals(expected, c.tokenIds(), what);
                    }
                }
            }
        }
    }

    @Test
    void slotsBackendAdmitsIntoFreeSlotsOnlyAndNeverPreempts() {
        FakeRunner runner = new FakeRunner(VOCAB, 1024, FakeRunner.capabilities(new ShapePolicy.Dynamic(), true,
                new KvLayout.Slots(4, 128), 4));
        Random rnd = new Random(12);
        int count = 12;
        int[][] prompts = prompts(rnd, count, 60, null);
        prompts[count - 1] = EngineTests.randomTokens(rnd, 100, VOCAB);  // runs into the slot length
        int[] maxTokens = new int[count];
        int[] n = new int[count];
        for (int i = 0; i < count; i++) {
            runner.registerPrompt(prompts[i]);
            maxTokens[i] = i == count - 1 ? 50 : 1 + rnd.nextInt(30);
            n[i] = i % 4 == 1 ? 2 : 1;
        }
        RequestHandle[] handles = new RequestHandle[count];
        int[] firstTokenStep = new int[count];
        Arrays.fill(firstTokenStep, -1);
        try (Engine engine = new Engine(runner, TOKENIZER, EngineTests.fitting(runner, EngineConfig.defaults()))) {
            assertEquals(128, engine.maxModelLen(), "a slot's length caps the context");
            int[] step = {0};
            for (int i = 0; i < count; i++) {
                int k = i;
                handles[i] = engine.submit(new EngineRequest("s" + i, prompts[i], greedy(maxTokens[i], n[i]), 0), e -> {
                    if (e instanceof StreamEvent.Delta && firstTokenStep[k] < 0) firstTokenStep[k] = step[0];
                });
            }
            engine.step();
            EngineStats first = engine.stats();
            assertTrue(first.numRunning() <= 4 && first.numRunning() >= 1, "running " + first.numRunning());
            assertTrue(first.numWaiting() >= count - 4, "the requests beyond the 4 slots should wait, waiting " + first.numWaiting());
            for (step[0] = 1; engine.hasWork(); step[0]++) {
                engine.step();
                EngineStats s = engine.stats();
                assertTrue(s.numLiveKvSequences() <= 4, "more live sequences than slots: " + s.numLiveKvSequences());
                assertTrue(s.numRunning() <= 4, "more running sequences than slots: " + s.numRunning());
                assertTrue(step[0] < 5000, "the engine does not finish");
            }
            for (int i = 0; i < count; i++) {
                RequestHandle.Result r = EngineTests.done(handles[i]);
                int expectedLength = Math.min(maxTokens[i], 128 - prompts[i].length);
                int[] expected = FakeRunner.expected(prompts[i], expectedLength, VOCAB);
                assertEquals(n[i], r.choices().size());
                for (RequestHandle.Choice c : r.choices()) {
                    assertEquals(FinishReason.LENGTH, c.finishReason(), "request " + i);
                    assertArrayEquals(expected, c.tokenIds(), "request " + i + " choice " + c.index());
                }
            }
            assertEquals(28, EngineTests.done(handles[count - 1]).choices().get(0).tokenIds().length,
                    "the 100-token prompt stops at the 128-position slot");
            EngineStats s = engine.stats();
            assertEquals(0, s.numPreemptions(), "SLOTS never preempt");
            assertEquals(0, s.kvUsedBlocks());
            assertEquals(0, s.numLiveKvSequences());
        }
        // The last requests waited for a slot, then ran.
        int lastOfFirstWave = Arrays.stream(firstTokenStep, 0, 2).max().getAsInt();
        assertTrue(firstTokenStep[count - 1] > lastOfFirstWave && firstTokenStep[count - 2] > lastOfFirstWave,
                "later requests should start only after earlier ones free their slots: " + Arrays.toString(firstTokenStep));
        // n = 2 requests forked into a second slot with a copy of the first's KV.
        assertTrue(runner.batches.stream().anyMatch(st -> !st.copies().isEmpty()), "forks on SLOTS copy the slot");
    }
}
