package io.basalt.backend.cuda.check;

import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.Quantization;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.StepOutput;
import io.basalt.spi.StorageDtype;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Step 5 on one loaded model: batch-1 decode (median step after warm-up), batched decode, one long prefill, driven
 * through the SPI exactly as the engine drives it (one {@link Batch} per step, blocks 0.. per sequence). A step is timed
 * end to end on the host clock: it returns only once the logits are back, so it includes the host's own work.
 */
final class DecodeBench {
    record Decode(int batch, int context, double medianStepMillis, double tokensPerSecond) { }

    record Prefill(int tokens, double millis, double tokensPerSecond) { }

    private final ModelRunner runner;
    private final int blockSize;
    private final SplittableRandom random = new SplittableRandom(42);
    private final int vocab;

    DecodeBench(ModelRunner runner) {
        this.runner = runner;
        Capabilities caps = runner.capabilities();
        if (!(caps.kvLayout() instanceof KvLayout.Paged p)) throw new IllegalStateException("the cuda runner is expected to page its KV cache");
        this.blockSize = p.blockSize();
        this.vocab = runner.spec().vocabSize();
    }

    /** The load configuration the bench needs: {@code maxSeqs} sequences of {@code maxTokens}, prefill of {@code prefill}. */
    static Backend.LoadConfig loadConfig(long kvBytes, int maxSeqs, int prefill) {
        return new Backend.LoadConfig(kvBytes, maxSeqs, Math.max(prefill, maxSeqs), StorageDtype.BF16, Quantization.NONE);
    }

    /** {@code batch} sequences prefilled to {@code context} tokens, then {@code warmup} + {@code steps} decode steps of all of them. */
    Decode decode(int batch, int context, int warmup, int steps) {
        int blocksPerSeq = (context + warmup + steps + blockSize) / blockSize;
        if ((long) blocksPerSeq * batch > runner.capabilities().numKvBlocks()) {
            throw new IllegalStateException(batch + " sequences of " + (context + warmup + steps) + " tokens need " + (blocksPerSeq * batch)
                    + " KV blocks; the runner has " + runner.capabilities().numKvBlocks());
        }
        int[][] tables = new int[batch][blocksPerSeq];
        for (int s = 0; s < batch; s++) for (int b = 0; b < blocksPerSeq; b++) tables[s][b] = s * blocksPerSeq + b;
        for (int s = 0; s < batch; s++) {
            runner.execute(new Batch(List.of(), List.of(new SequenceInput(s, tokens(context), 0, tables[s], true)), Batch.HiddenStates.NONE));
        }
        double[] ms = new double[steps];
        for (int i = 0; i < warmup + steps; i++) {
            List<SequenceInput> rows = new ArrayList<>(batch);
            for (int s = 0; s < batch; s++) rows.add(new SequenceInput(s, tokens(1), context + i, tables[s], true));
            long t0 = System.nanoTime();
            StepOutput out = runner.execute(new Batch(List.of(), rows, Batch.HiddenStates.NONE));
            long t1 = System.nanoTime();
            if (out.sequences().size() != batch) throw new IllegalStateException("a decode step of " + batch + " rows returned " + out.sequences().size());
            if (i >= warmup) ms[i - warmup] = (t1 - t0) / 1e6;
        }
        Arrays.sort(ms);
        double median = ms[ms.length / 2];
        return new Decode(batch, context, median, batch / (median / 1e3));
    }

    /** One prompt of {@code tokens} tokens in one step (after one untimed warm-up of the same size). */
    Prefill prefill(int tokens) {
        int blocks = (tokens + blockSize - 1) / blockSize;
        int[] table = new int[blocks];
        for (int b = 0; b < blocks; b++) table[b] = b;
        runner.execute(new Batch(List.of(), List.of(new SequenceInput(0, tokens(tokens), 0, table, true)), Batch.HiddenStates.NONE));
        long t0 = System.nanoTime();
        runner.execute(new Batch(List.of(), List.of(new SequenceInput(1, tokens(tokens), 0, table, true)), Batch.HiddenStates.NONE));
        double ms = (System.nanoTime() - t0) / 1e6;
        return new Prefill(tokens, ms, tokens / (ms / 1e3));
    }

    private int[] tokens(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + random.nextInt(vocab - 3);
        return t;
    }
}
