package io.basalt.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.basalt.kv.KvTestSupport.Snapshot;
import io.basalt.spi.BlockCopy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Random admit/step/complete/fork/free traffic against a simulated device: every block holds the
 * token id written at each position, copies are applied as the runner would, and steps write their tokens.
 * After every operation each live sequence must read back its own tokens for [0, numComputed) through its
 * block table, and the reference counts and free list must agree with the live tables.
 */
class KvCacheStressTest {
    private static final int BS = 4;
    private static final int NUM_BLOCKS = 48;
    private static final int OPS = 6000;

    private final Map<Long, Sim> live = new HashMap<>();
    private int[][] device;
    private PagedKvCacheManager m;
    private Random rnd;
    private long nextId;

    /**
     * The test's own view of a sequence, as the engine's Sequence holds it: its tokens, how many have KV (the
     * manager keeps no count of its own), and the step in flight (allocated, not yet computed).
     */
    private static final class Sim {
        int[] tokens;
        int numComputed;
        int pendingTarget = -1;

        Sim(int[] tokens, int numComputed) {
            this.tokens = tokens;
            this.numComputed = numComputed;
        }
    }

    @ParameterizedTest
    @CsvSource({"1, true", "2, true", "3, false"})
    void invariantsHoldUnderRandomTraffic(long seed, boolean prefixCaching) {
        rnd = new Random(seed);
        m = new PagedKvCacheManager(NUM_BLOCKS, BS, prefixCaching);
        device = new int[NUM_BLOCKS][BS];
        for (int[] block : device) Arrays.fill(block, -1);
        int[][] prompts = new int[3][];
        for (int p = 0; p < prompts.length; p++) prompts[p] = randomTokens(40, 1000 * (p + 1), 4);
        int admitted = 0;
        int failures = 0;
        int copies = 0;
        int pinnedSeen = 0;

        for (int op = 0; op < OPS; op++) {
            int kind = rnd.nextInt(100);
            String what;
            if (kind < 20 && live.size() < 12) {
                what = "admit";
                int[] prompt = prompts[rnd.nextInt(prompts.length)];
                int[] tokens = concat(Arrays.copyOf(prompt, 1 + rnd.nextInt(prompt.length)), randomTokens(rnd.nextInt(10), 0, 3));
                if (admit(tokens)) admitted++; else failures++;
            } else if (kind < 50) {
                what = "step";
                Long id = pick(false);
                if (id != null && !step(id)) failures++;
            } else if (kind < 75) {
                what = "complete";
                Long id = pick(true);
                if (id != null) copies += complete(id);
            } else if (kind < 83) {
                what = "fork";
                Long id = pickAny();   // pending ones too: the parent then writes into blocks it shares
                if (id != null) {
                    long child = nextId++;
                    m.fork(id, child);
                    Sim parent = live.get(id);
                    live.put(child, new Sim(Arrays.copyOf(parent.tokens, parent.numComputed), parent.numComputed));
                }
            } else if (kind < 93) {
                what = "free";
                Long id = pickAny();
                if (id != null) {
                    m.free(id);
                    live.remove(id);
                }
            } else {
                what = "runner takes copies";
                copies += applyCopies();
            }
            if (!m.pinnedBlocks().isEmpty()) pinnedSeen++;
            try {
                checkInvariants();
            } catch (AssertionError e) {
                fail("after op " + op + " (" + what + "), seed " + seed + ": " + e.getMessage(), e);
            }
        }
        // The run must have exercised what it claims to test.
        assertTrue(admitted > 100 && failures > 10 && copies > 10 && pinnedSeen > 0,
                admitted + " admitted, " + failures + " failed, " + copies + " copies, pinned after " + pinnedSeen + " ops");
        if (prefixCaching) assertTrue(m.stats().prefixHits() > 0, "no prefix hits");

        for (long id : List.copyOf(live.keySet())) m.free(id);
        live.clear();
        applyCopies();   // releases sources pinned by pending copies
        checkInvariants();
        assertEquals(NUM_BLOCKS, KvTestSupport.numFree(m));
        assertEquals(0, m.numLiveSequences());
    }

    private boolean admit(int[] tokens) {
        long id = nextId++;
        int cached = m.findCachedPrefix(tokens, tokens.length);
        assertEquals(0, cached % BS);
        assertTrue(cached <= tokens.length - 1);
        int target = Math.min(tokens.length, cached + 1 + rnd.nextInt(12));   // chunked prefill at random
        Snapshot before = Snapshot.of(m, live.keySet());
        if (!m.allocate(id, tokens, cached, target)) {
            assertEquals(before, Snapshot.of(m, live.keySet()), "failed admission changed state");
            return false;
        }
        assertEquals((target + BS - 1) / BS, m.blockTable(id).length);
        Sim sim = new Sim(tokens, cached);
        sim.pendingTarget = target;
        live.put(id, sim);
        return true;
    }

    /** Schedules the next chunk (or one decode token) of a sequence; on failure preempts it half the time. */
    private boolean step(long id) {
        Sim sim = live.get(id);
        int computed = sim.numComputed;
        if (computed == sim.tokens.length) sim.tokens = concat(sim.tokens, randomTokens(1, 0, 3));   // "sampled"
        int target = Math.min(sim.tokens.length, computed + 1 + rnd.nextInt(6));
        Snapshot before = Snapshot.of(m, live.keySet());
        if (m.allocate(id, sim.tokens, computed, target)) {
            sim.pendingTarget = target;
            return true;
        }
        assertEquals(before, Snapshot.of(m, live.keySet()), "failed allocation changed state");
        if (rnd.nextBoolean()) {
            m.free(id);
            live.remove(id);
        }
        return false;
    }

    /**
     * One runner step for one sequence: it applies the pending copies first, writes the step's tokens into the
     * sequence's blocks, then the scheduler marks them computed.
     */
    private int complete(long id) {
        int copies = applyCopies();
        Sim sim = live.get(id);
        int[] table = m.blockTable(id);
        for (int p = sim.numComputed; p < sim.pendingTarget; p++) device[table[p / BS]][p % BS] = sim.tokens[p];
        m.markComputed(id, sim.tokens, sim.pendingTarget);
        sim.numComputed = sim.pendingTarget;
        sim.pendingTarget = -1;
        return copies;
    }

    private int applyCopies() {
        List<BlockCopy> copies = m.takePendingCopies();
        for (BlockCopy c : copies) device[c.target()] = device[c.source()].clone();
        return copies.size();
    }

    private void checkInvariants() {
        // What the device will hold once the runner has applied the copies queued so far.
        int[][] view = new int[NUM_BLOCKS][];
        for (int b = 0; b < NUM_BLOCKS; b++) view[b] = device[b].clone();
        for (BlockCopy c : m.peekPendingCopies()) view[c.target()] = view[c.source()].clone();
        int[] refs = new int[NUM_BLOCKS];
        for (int b : m.pinnedBlocks()) refs[b]++;
        int pinned = m.pinnedBlocks().size();
        int tableSum = 0;
        for (var e : live.entrySet()) {
            long id = e.getKey();
            int[] table = m.blockTable(id);
            tableSum += table.length;
            Set<Integer> distinct = new HashSet<>();
            for (int b : table) {
                refs[b]++;
                assertTrue(distinct.add(b), "block " + b + " twice in table of " + id);
            }
            int[] tokens = e.getValue().tokens;
            for (int p = 0; p < e.getValue().numComputed; p++) {
                assertEquals(tokens[p], view[table[p / BS]][p % BS], "sequence " + id + " reads wrong KV at " + p);
            }
        }
        int refSum = 0;
        for (int b = 0; b < NUM_BLOCKS; b++) {
            assertEquals(refs[b], m.refCount(b), "ref count of block " + b);   // also: shared => ref >= 2
            refSum += m.refCount(b);
            int[] cached = m.cachedTokens(b);
            if (cached != null) assertArrayEquals(cached, view[b], "cached block " + b + " holds other KV");
        }
        assertEquals(tableSum + pinned, refSum, "refs = table entries + sources pinned for pending copies");
        List<Integer> free = new ArrayList<>();
        for (int b : m.freeListOrder()) free.add(b);
        Set<Integer> expectedFree = new HashSet<>();
        for (int b = 0; b < NUM_BLOCKS; b++) if (refs[b] == 0) expectedFree.add(b);
        assertEquals(expectedFree, new HashSet<>(free), "free list holds exactly the ref-0 blocks");
        assertEquals(free.size(), new HashSet<>(free).size(), "free list has duplicates");
        assertEquals(free.size(), KvTestSupport.numFree(m));
        assertEquals(NUM_BLOCKS - free.size(), m.stats().usedBlocks());
        assertEquals(live.size(), m.numLiveSequences());
    }

    private Long pick(boolean pending) {
        List<Long> ids = new ArrayList<>();
        for (var e : live.entrySet()) if ((e.getValue().pendingTarget >= 0) == pending) ids.add(e.getKey());
        ids.sort(null);   // HashMap order must not decide the run
        return ids.isEmpty() ? null : ids.get(rnd.nextInt(ids.size()));
    }

    private Long pickAny() {
        List<Long> ids = new ArrayList<>(live.keySet());
        ids.sort(null);
        return ids.isEmpty() ? null : ids.get(rnd.nextInt(ids.size()));
    }

    /** Few distinct ids, so identical blocks (duplicates and real prefix hits) are common. */
    private int[] randomTokens(int n, int base, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = base + rnd.nextInt(vocab);
        return t;
    }

    private static int[] concat(int[] a, int[] b) {
        return KvTestSupport.concat(a, b);
    }
}
