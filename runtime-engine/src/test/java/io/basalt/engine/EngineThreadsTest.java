package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.api.SamplingParams;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Who runs what: the step thread owns every runner call (close included), results complete on the completion
 * thread, and the step-thread methods refuse other threads. Also: a runner that breaks the output contract fails
 * its step's requests instead of being misread.
 */
class EngineThreadsTest {
    private static final int VOCAB = 512;
    private static final Tokenizer TOKENIZER = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), VOCAB);
    private static final int[] PROMPT = {5, 6, 7, 8};

    /** Wraps a {@link FakeRunner}: can hold the first execute until released, and records who closes it and when. */
    private static final class WatchedRunner implements ModelRunner {
        final FakeRunner fake = new FakeRunner(VOCAB, 1024,
                FakeRunner.capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(16), 64));
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release;
        final UnaryOperator<StepOutput> tamper;
        volatile boolean executing;
        volatile Thread closedBy;
        volatile boolean closedDuringExecute;

        WatchedRunner(boolean hold, UnaryOperator<StepOutput> tamper) {
            this.release = new CountDownLatch(hold ? 1 : 0);
            this.tamper = tamper;
        }

        @Override public ModelSpec spec() { return fake.spec(); }

        @Override public Capabilities capabilities() { return fake.capabilities(); }

        @Override
        public StepOutput execute(Batch batch) {
            executing = true;
            try {
                entered.countDown();
                release.await(30, TimeUnit.SECONDS);
                return tamper.apply(fake.execute(batch));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                executing = false;
            }
        }

        @Override
        public void close() {
            if (executing) closedDuringExecute = true;
            closedBy = Thread.currentThread();
        }
    }

    private static EngineRequest request(String id, int maxTokens) {
        return new EngineRequest(id, PROMPT, SamplingParams.greedy(maxTokens), 0);
    }

    @Test
    void resultsCompleteOnTheCompletionThreadAndListenersRunOnTheStepThread() throws Exception {
        WatchedRunner runner = new WatchedRunner(false, UnaryOperator.identity());
        try (Engine engine = new Engine(runner, TOKENIZER, EngineConfig.defaults())) {
            AtomicReference<Thread> listenerThread = new AtomicReference<>();
            RequestHandle h = engine.submit(request("a", 5), e -> listenerThread.set(Thread.currentThread()));
            // Chained before the engine runs, so the callback runs wherever the future is completed.
            CompletableFuture<Thread> callbackThread = h.result().thenApply(r -> Thread.currentThread());
            engine.start();
            assertEquals("basalt-completions", callbackThread.get(10, TimeUnit.SECONDS).getName());
            assertEquals("basalt-engine", listenerThread.get().getName());
        }
    }

    @Test
    void aStepDrivenByHandReturnsWithTheResultsItFinishedComplete() {
        WatchedRunner runner = new WatchedRunner(false, UnaryOperator.identity());
        try (Engine engine = new Engine(runner, TOKENIZER, EngineConfig.defaults())) {
            RequestHandle h = engine.submit(request("a", 3));
            CompletableFuture<Thread> callbackThread = h.result().thenApply(r -> Thread.currentThread());
            int steps = 0;
            while (!h.result().isDone()) {
                assertTrue(engine.hasWork(), "idle before the request completed");
                engine.step();
                steps++;
            }
            assertEquals(3, steps, "complete right after the step that produced the last token");
            assertTrue(callbackThread.isDone());
            assertNotSame(Thread.currentThread(), callbackThread.join(), "the result completed on the caller's thread");
            assertEquals(3, h.result().join().numGeneratedTokens());
        }
    }

    /**
     * close() while the step thread is inside execute(): the runner must not be closed under it. The step finishes,
     * then the step thread aborts what is left, closes the runner, and close() returns with the results complete.
     */
    @Test
    void closeWaitsForTheStepInProgressAndTheStepThreadClosesTheRunner() throws Exception {
        WatchedRunner runner = new WatchedRunner(true, UnaryOperator.identity());
        Engine engine = new Engine(runner, TOKENIZER, EngineConfig.defaults()).start();
        RequestHandle h = engine.submit(request("long", 100));
        assertTrue(runner.entered.await(10, TimeUnit.SECONDS), "the step never reached the runner");
        CompletableFuture<Void> closing = CompletableFuture.runAsync(engine::close);
        Thread.sleep(300);
        assertFalse(closing.isDone(), "close() returned while a step was in the runner");
        assertNull(runner.closedBy, "the runner was closed while execute() ran");
        runner.release.countDown();
        closing.get(10, TimeUnit.SECONDS);
        assertFalse(runner.closedDuringExecute);
        assertEquals("basalt-engine", runner.closedBy.getName());
        assertTrue(h.result().isDone(), "close() returns once the aborted requests' results are complete");
        assertEquals(FinishReason.ABORT, h.result().join().choices().get(0).finishReason());
        assertThrows(IllegalStateException.class, () -> engine.submit(request("late", 1)));
        engine.close();  // a second close does nothing
    }

    @Test
    void closingAnEngineThatWasNeverStartedAbortsWhatIsQueuedAndClosesTheRunner() {
        WatchedRunner runner = new WatchedRunner(false, UnaryOperator.identity());
        Engine engine = new Engine(runner, TOKENIZER, EngineConfig.defaults());
        RequestHandle running = engine.submit(request("running", 50));
        engine.step();
        RequestHandle queued = engine.submit(request("queued", 50));
        engine.close();
        assertSame(Thread.currentThread(), runner.closedBy);
        for (RequestHandle h : List.of(running, queued)) {
            assertTrue(h.result().isDone(), h.requestId());
            assertEquals(FinishReason.ABORT, h.result().join().choices().get(0).finishReason(), h.requestId());
        }
        assertEquals(1, running.result().join().numGeneratedTokens());
        assertThrows(IllegalStateException.class, () -> engine.submit(request("late", 1)));
        assertThrows(IllegalStateException.class, engine::step);
        assertFalse(engine.hasWork());
    }

    @Test
    void theStepThreadsMethodsRefuseOtherThreadsOnceStarted() {
        WatchedRunner runner = new WatchedRunner(false, UnaryOperator.identity());
        try (Engine engine = new Engine(runner, TOKENIZER, EngineConfig.defaults()).start()) {
            assertThrows(IllegalStateException.class, engine::hasWork);
            assertThrows(IllegalStateException.class, engine::step);
            assertThrows(IllegalStateException.class, engine::runUntilIdle);
            assertThrows(IllegalStateException.class, engine::start);
        }
    }

    /** Outputs a runner must not return: too few, nothing for a sequence that needs its token, ids from a logits backend. */
    @Test
    void aRunnerThatBreaksTheOutputContractFailsItsStepsRequests() {
        List<UnaryOperator<StepOutput>> broken = List.of(
                out -> new StepOutput(List.of(), List.of()),
                out -> new StepOutput(out.sequences().stream().map(s -> SequenceOutput.NONE).toList(), List.of()),
                out -> new StepOutput(out.sequences().stream().map(s -> (SequenceOutput) new SequenceOutput.Sampled(9)).toList(), List.of()),
                out -> {
                    List<SequenceOutput> wrong = new ArrayList<>(out.sequences());
                    wrong.add(SequenceOutput.NONE);
                    return new StepOutput(wrong, List.of());
                });
        for (int i = 0; i < broken.size(); i++) {
            WatchedRunner runner = new WatchedRunner(false, broken.get(i));
            try (Engine engine = new Engine(runner, TOKENIZER, EngineConfig.defaults())) {
                List<StreamEvent> events = new ArrayList<>();
                RequestHandle h = engine.submit(request("r", 5), events::add);
                EngineTests.runUntilIdle(engine, 10);
                RequestHandle.Choice c = EngineTests.done(h).choices().get(0);
                assertEquals(FinishReason.ABORT, c.finishReason(), "case " + i);
                assertTrue(c.error().startsWith("the backend failed"), "case " + i + ": " + c.error());
                assertEquals(1, events.size(), "case " + i + ": " + events);
                assertTrue(events.getFirst() instanceof StreamEvent.Failed, "case " + i);
                assertEquals(0, engine.stats().kvUsedBlocks());
            }
        }
    }
}
