package io.basalt.backend.neuron;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * One platform thread per tensor-parallel rank ({@code basalt-neuron-rank-<r>}): a collective NEFF's nrt_execute
 * returns only when every rank of the group is executing, so the ranks must run at once, never one after another.
 */
final class RankThreads implements AutoCloseable {
    private final List<ExecutorService> threads = new ArrayList<>();

    RankThreads(int ranks) {
        for (int r = 0; r < ranks; r++) {
            String name = "basalt-neuron-rank-" + r;
            threads.add(Executors.newSingleThreadExecutor(task -> {
                Thread t = Thread.ofPlatform().name(name).daemon(true).unstarted(task);
                return t;
            }));
        }
    }

    int size() { return threads.size(); }

    /** Runs {@code work} for every rank at once, each on its thread; the first failure (by rank) is rethrown after all end. */
    void runAll(IntConsumer work) {
        List<Future<?>> futures = new ArrayList<>();
        for (int r = 0; r < threads.size(); r++) {
            int rank = r;
            futures.add(threads.get(r).submit(() -> work.accept(rank)));
        }
        RuntimeException first = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (first == null) first = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (first == null) first = new IllegalStateException("interrupted while the neuron ranks ran", e);
            }
        }
        if (first != null) throw first;
    }

    @Override
    public void close() {
        for (ExecutorService t : threads) t.shutdown();
    }
}
