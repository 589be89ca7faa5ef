package io.basalt.backend.cpu.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool of (cores − 1) workers for the many short parallel loops of a decode step (GPT-2
 * runs ~50 per token). Workers spin briefly between loops — cheaper than waking a parked thread for
 * a 100 µs GEMV — then park, so nothing spins between steps (on 2 cores one stray spinner halves
 * throughput). One caller at a time owns the pool; a concurrent caller runs its loop alone.
 */
final class WorkerPool {
    private static final long SPIN_NANOS = 200_000;

    private final Thread[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicInteger remaining = new AtomicInteger();
    /** The next chunk to take: participants claim chunks until none is left. */
    private final AtomicInteger nextChunk = new AtomicInteger();
    private volatile int chunks;
    private volatile long generation;
    private volatile Parallel.RangeBody body;
    private volatile int n;
    private volatile Throwable failure;
    /** Which workers are parked; re-assigned after each write so the flag is published (volatile). */
    private volatile boolean[] parkedFlags;

    WorkerPool(int numWorkers) {
        workers = new Thread[numWorkers];
        parkedFlags = new boolean[numWorkers];
        for (int i = 0; i < numWorkers; i++) {
            int index = i;
            workers[i] = Thread.ofPlatform().name("basalt-kernel-" + (i + 1)).daemon(true).unstarted(() -> work(index));
            workers[i].start();
        }
    }

    int parallelism() { return workers.length + 1; }

    /**
     * Runs body over [0, n) in contiguous chunks, chunksPerThread per participant, which each
     * participant claims in order until none is left: a thread slowed by another process (two vCPUs on
     * a shared host) then takes fewer chunks instead of keeping the other waiting at the barrier.
     * False if another caller owns the pool.
     */
    boolean tryRun(int n, int chunksPerThread, Parallel.RangeBody body) {
        if (!busy.compareAndSet(false, true)) return false;
        try {
            int chunks = Math.min(n, parallelism() * chunksPerThread);
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.nextChunk.set(0);
            this.failure = null;
            remaining.set(workers.length);
            generation++; // publishes body and n to the workers
            boolean[] flags = parkedFlags;
            for (int i = 0; i < workers.length; i++) if (flags[i]) LockSupport.unpark(workers[i]);
            try {
                runChunks(chunks, n, body);
            } catch (Throwable t) {
                failure = t;
            }
            // Wait for the workers even after a failure: the pool must be idle before the next loop.
            while (remaining.get() > 0) Thread.onSpinWait();
            Throwable t = failure;
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            return true;
        } finally {
            this.body = null;
            busy.set(false);
        }
    }

    private void runChunks(int chunks, int n, Parallel.RangeBody body) {
        for (int c; (c = nextChunk.getAndIncrement()) < chunks; ) {
            int start = (int) ((long) n * c / chunks);
            int end = (int) ((long) n * (c + 1) / chunks);
            if (start < end) body.run(start, end);
        }
    }

    private void work(int index) {
        long seen = 0; // not a read of generation: a task published before this thread starts must not be missed
        while (true) {
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && System.nanoTime() < deadline) Thread.onSpinWait();
            if (generation == seen) {
                parkedFlags[index] = true;
                parkedFlags = parkedFlags; // volatile write: the flag is visible before the re-check
                while (generation == seen) LockSupport.park(this);
                parkedFlags[index] = false;
            }
            seen = generation;
            try {
                runChunks(chunks, n, body);
            } catch (Throwable t) {
                failure = t;
            } finally {
                remaining.decrementAndGet();
            }
        }
    }
}
