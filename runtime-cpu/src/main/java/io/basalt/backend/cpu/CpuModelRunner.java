package io.basalt.backend.cpu;

import io.basalt.backend.FlatBatch;
import io.basalt.backend.cpu.model.Model;
import io.basalt.spi.Batch;
import io.basalt.spi.BlockCopy;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs any mix of prefill chunks and decodes in one forward pass: the matrix products cover every
 * token of the step, attention reads each sequence's K/V through its block table (no copies).
 */
public final class CpuModelRunner implements ModelRunner {
    public static final int BLOCK_SIZE = 16;

    private final Model model;
    private final ModelSpec spec;
    private final Capabilities capabilities;
    private final PagedKvPool pool;

    CpuModelRunner(Model model, int numBlocks) {
        this.model = model;
        this.spec = model.spec();
        this.pool = new PagedKvPool(spec.numLayers(), numBlocks, BLOCK_SIZE, model.info().kv().kvDim());
        this.capabilities = new Capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(BLOCK_SIZE), numBlocks, false);
    }

    public Model model() { return model; }

    @Override public ModelSpec spec() { return spec; }

    @Override public Capabilities capabilities() { return capabilities; }

    @Override
    public StepOutput execute(Batch batch) {
        for (BlockCopy copy : batch.blockCopies()) pool.copyBlock(copy.source(), copy.target());
        int numSeqs = batch.sequences().size();
        if (numSeqs == 0) return new StepOutput(List.of(), List.of());
        FlatBatch flat = FlatBatch.of(batch, BLOCK_SIZE, spec);
        HiddenStateRecorder recorder = batch.hiddenStates() == Batch.HiddenStates.PER_LAYER
                ? new HiddenStateRecorder(flat, spec.numLayers()) : null;
        List<float[][]> logits = model.forward(flat, pool, recorder != null ? recorder : Model.ResidualObserver.NONE);
        List<SequenceOutput> out = new ArrayList<>(numSeqs);
        for (float[][] rows : logits) out.add(rows.length == 0 ? SequenceOutput.NONE : new SequenceOutput.Logits(rows[0]));
        return new StepOutput(out, recorder != null ? recorder.states() : List.of());
    }

    private boolean closed;

    /** Unmaps the weights; a second call does nothing (the engine and its creator may both close). */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        model.close();
    }

    /** Copies the residual after each block into [sequence][layer][token][hidden]. */
    private static final class HiddenStateRecorder implements Model.ResidualObserver {
        private final FlatBatch batch;
        private final float[][][][] states;

        HiddenStateRecorder(FlatBatch batch, int numLayers) {
            this.batch = batch;
            states = new float[batch.numSequences()][][][];
            for (int s = 0; s < states.length; s++) states[s] = new float[numLayers][batch.numTokens(s)][];
        }

        @Override
        public void afterBlock(int layer, int row, float[] residual) {
            int s = batch.sequence(row);
            states[s][layer][row - batch.firstRow(s)] = residual.clone();
        }

        List<float[][][]> states() { return Arrays.asList(states); }
    }
}
