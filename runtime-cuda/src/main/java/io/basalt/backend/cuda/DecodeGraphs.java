package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.Graph;
import io.basalt.backend.cuda.Cuda.GraphExec;
import io.basalt.backend.cuda.Cuda.Stream;
import java.util.HashMap;
import java.util.Map;

/**
 * Decode steps as CUDA graphs, one per batch-size bucket (1, 2, 4, …; docs/CUDA.md §6): the first decode step of a
 * bucket captures the forward's launches on the runner's stream, later ones replay them. A graph holds the addresses and
 * sizes it was captured with, so it reads the fixed StepInputs and activation buffers; when those are reallocated the
 * runner {@link #invalidate}s every graph.
 */
final class DecodeGraphs implements AutoCloseable {
    private final Cuda cuda;
    private final Map<Integer, GraphExec> byBucket = new HashMap<>();
    private int captures;
    private int replays;

    DecodeGraphs(Cuda cuda) { this.cuda = cuda; }

    /** The smallest power of two ≥ rows. */
    static int bucket(int rows) {
        if (rows <= 1) return 1;
        return Integer.highestOneBit(rows - 1) << 1;
    }

    /** Runs bucket's graph on the stream, capturing {@code launches} first when it has none. */
    void launch(int bucket, Stream stream, Runnable launches) {
        GraphExec exec = byBucket.get(bucket);
        if (exec == null) {
            exec = capture(stream, launches);
            byBucket.put(bucket, exec);
            captures++;
        }
        cuda.launch(exec, stream);
        replays++;
    }

    private GraphExec capture(Stream stream, Runnable launches) {
        cuda.beginCapture(stream);
        Graph graph;
        try {
            launches.run();
        } catch (RuntimeException e) {
            try {
                cuda.destroy(cuda.endCapture(stream)); // leave the stream out of capture mode
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        graph = cuda.endCapture(stream);
        try {
            return cuda.instantiate(graph);
        } finally {
            cuda.destroy(graph);
        }
    }

    int captures() { return captures; }

    int replays() { return replays; }

    /** Drops every graph (their buffers are about to move). */
    void invalidate() {
        RuntimeException first = null;
        for (GraphExec e : byBucket.values()) {
            try {
                cuda.destroy(e);
            } catch (RuntimeException x) {
                if (first == null) first = x;
            }
        }
        byBucket.clear();
        if (first != null) throw first;
    }

    @Override
    public void close() { invalidate(); }
}
