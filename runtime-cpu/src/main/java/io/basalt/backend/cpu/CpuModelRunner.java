package io.basalt.backend.cpu;

import io.basalt.backend.cpu.model.Model;
import io.basalt.backend.cpu.model.SequenceChunk;
import io.basalt.spi.Batch;
import io.basalt.spi.BlockCopy;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

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
        var info = model.info();
        this.spec = new ModelSpec(info.architecture().name().toLowerCase(java.util.Locale.ROOT), info.vocabSize(),
                info.maxPositions(), info.numLayers(), info.hiddenSize(), kvBytesPerToken(model));
        this.pool = new PagedKvPool(info.numLayers(), numBlocks, BLOCK_SIZE, model.kvDim());
        this.capabilities = new Capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(BLOCK_SIZE), numBlocks,
                Set.of("f32", "f16", "bf16", "q8_0", "q4_0", "mxfp4"), Runtime.getRuntime().maxMemory(), false);
    }

    /** K and V, fp32, every layer. */
    static long kvBytesPerToken(Model model) { return 2L * 4 * model.kvDim() * model.info().numLayers(); }

    public Model model() { return model; }

    @Override public ModelSpec spec() { return spec; }

    @Override public Capabilities capabilities() { return capabilities; }

    @Override
    public StepOutput execute(Batch batch) {
        for (BlockCopy copy : batch.blockCopies()) pool.copyBlock(copy.source(), copy.target());
        List<SequenceInput> inputs = batch.sequences();
        if (inputs.isEmpty()) return new StepOutput(List.of(), List.of());
        List<SequenceChunk> chunks = new ArrayList<>(inputs.size());
        for (SequenceInput in : inputs) {
            chunks.add(new SequenceChunk(pool.view(in.blockTable()), in.tokenIds(), in.startPosition(),
                    in.needLogits() ? Model.Logits.LAST : Model.Logits.NONE));
        }
        HiddenStateRecorder recorder = batch.hiddenStates() == Batch.HiddenStates.PER_LAYER
                ? new HiddenStateRecorder(inputs, spec.numLayers(), spec.hiddenSize()) : null;
        List<float[][]> logits = model.forward(chunks, recorder != null ? recorder : Model.ResidualObserver.NONE);
        List<SequenceOutput> out = new ArrayList<>(inputs.size());
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
        private final float[][][][] states;
        private final int[] sequenceOfRow;
        private final int[] indexOfRow;

        HiddenStateRecorder(List<SequenceInput> inputs, int numLayers, int hidden) {
            int rows = inputs.stream().mapToInt(SequenceInput::numTokens).sum();
            sequenceOfRow = new int[rows];
            indexOfRow = new int[rows];
            states = new float[inputs.size()][][][];
            int r = 0;
            for (int s = 0; s < inputs.size(); s++) {
                int n = inputs.get(s).numTokens();
                states[s] = new float[numLayers][n][];
                for (int i = 0; i < n; i++, r++) {
                    sequenceOfRow[r] = s;
                    indexOfRow[r] = i;
                }
            }
        }

        @Override
        public void afterBlock(int layer, int row, float[] residual) {
            states[sequenceOfRow[row]][layer][indexOfRow[row]] = residual.clone();
        }

        List<float[][][]> states() { return Arrays.asList(states); }
    }
}
