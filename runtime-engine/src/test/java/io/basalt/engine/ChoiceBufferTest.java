package io.basalt.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.api.FinishReason;
import io.basalt.engine.sampling.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** One choice's deltas, merged per take: nothing lost, order kept, the end handed out once. */
class ChoiceBufferTest {
    private static StreamEvent.Delta delta(int token, String text) {
        return new StreamEvent.Delta(0, new int[] {token}, text, List.of(new Sample(token, -token, List.of())));
    }

    @Test
    void aTakeMergesEverythingSinceThePreviousTake() {
        ChoiceBuffer b = new ChoiceBuffer();
        assertFalse(b.hasPending());
        assertFalse(b.add(delta(1, "a")));
        assertFalse(b.add(delta(2, "")));    // text may lag tokens
        assertFalse(b.add(delta(3, "bc")));
        assertTrue(b.hasPending());
        ChoiceBuffer.Chunk c = b.take();
        assertArrayEquals(new int[] {1, 2, 3}, c.tokenIds());
        assertEquals("abc", c.text());
        assertEquals(List.of(1, 2, 3), c.logprobs().stream().map(Sample::tokenId).toList());
        assertFalse(c.isLast());
        assertFalse(b.hasPending());

        ChoiceBuffer.Chunk empty = b.take();
        assertFalse(empty.hasOutput());
        assertFalse(empty.isLast());

        b.add(delta(4, "d"));
        assertArrayEquals(new int[] {4}, b.take().tokenIds());  // only what came since
    }

    @Test
    void theFinishCarriesTheTrailingTextAndIsHandedOutOnce() {
        ChoiceBuffer b = new ChoiceBuffer();
        b.add(delta(7, "x"));
        assertTrue(b.add(new StreamEvent.Finished(0, FinishReason.STOP, "yz", 5, 1)));
        assertFalse(b.isDone());
        ChoiceBuffer.Chunk last = b.take();
        assertEquals("xyz", last.text());
        assertEquals(new ChoiceBuffer.End.Finished(FinishReason.STOP, 5, 1), last.end());
        assertTrue(b.isDone());
        assertFalse(b.hasPending());
        assertNull(b.take().end());
        // Anything after the end is ignored: the first end stands.
        assertFalse(b.add(new StreamEvent.Failed(0, "late")));
        assertFalse(b.add(delta(8, "w")));
        assertFalse(b.hasPending());
        assertEquals(1, b.numGeneratedTokens());
    }

    @Test
    void anEndAloneIsPendingAndAFailureKeepsTheTokensCounted() {
        ChoiceBuffer b = new ChoiceBuffer();
        b.add(delta(1, "a"));
        b.add(delta(2, "b"));
        b.take();
        assertTrue(b.add(new StreamEvent.Failed(0, "backend threw")));
        assertTrue(b.hasPending());
        ChoiceBuffer.Chunk c = b.take();
        assertFalse(c.hasOutput());
        assertEquals(new ChoiceBuffer.End.Failed("backend threw"), c.end());
        assertEquals(2, b.numGeneratedTokens());
    }

    @Test
    void aSlowReaderLosesNothingWhileTheWriterRuns() throws Exception {
        int n = 20_000;
        ChoiceBuffer b = new ChoiceBuffer();
        CountDownLatch go = new CountDownLatch(1);
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            for (int i = 0; i < n; i++) b.add(delta(i, Integer.toString(i % 10)));
            b.add(new StreamEvent.Finished(0, FinishReason.LENGTH, "!", 3, n));
        });
        List<Integer> ids = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int takes = 0;
        go.countDown();
        while (!b.isDone()) {
            ChoiceBuffer.Chunk c = b.take();
            takes++;
            for (int t : c.tokenIds()) ids.add(t);
            text.append(c.text());
            assertEquals(c.numTokens(), c.logprobs().size());
        }
        writer.join();
        assertEquals(n, ids.size());
        for (int i = 0; i < n; i++) assertEquals(i, ids.get(i));
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < n; i++) expected.append(i % 10);
        assertEquals(expected.append('!').toString(), text.toString());
        assertTrue(takes >= 1);
    }
}
