package io.basalt.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.basalt.backend.FlatBatch;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import java.util.Arrays;
import java.util.List;

/**
 * Runs engine steps on libtorch: every scheduled token of every sequence in one set of matrix
 * products, attention per sequence through its block table into the paged KV pool. Each step's
 * arrays live in a sub-manager and an {@link NDScope}, both closed when the step returns, so
 * native memory does not grow with the number of steps.
 */
public final class TorchModelRunner implements ModelRunner {
    public static final int BLOCK_SIZE = 16;

    private final NDManager manager;
    private final TorchModel model;
    private final TorchDtype dtype;
    private final TorchKvCache kv;
    private final ModelSpec spec;
    private final Capabilities capabilities;
    private boolean closed;

    TorchModelRunner(NDManager manager, TorchModel model, TorchDtype dtype, int numBlocks) {
        this.manager = manager;
        this.model = model;
        this.dtype = dtype;
        ModelInfo info = model.info();
        this.spec = info.spec(dtype.element);
        this.kv = new TorchKvCache(manager, info.numLayers(), numBlocks, BLOCK_SIZE, info.kv().kvDim(), dtype);
        this.capabilities = new Capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(BLOCK_SIZE), numBlocks, false);
    }

    /** What was loaded (architecture, sizes, the checkpoint's metadata: what a tokenizer needs). */
    public ModelInfo info() { return model.info(); }

    /** The device the arrays live on, e.g. "cpu()" or "gpu(0)". */
    public String device() { return manager.getDevice().toString(); }

    /** NDArrays the runner's manager holds (weights and KV pool): constant across steps, or steps leak. */
    int liveArrays() { return manager.getManagedArrays().size(); }

    @Override public ModelSpec spec() { return spec; }

    @Override public Capabilities capabilities() { return capabilities; }

    @Override
    public synchronized StepOutput execute(Batch batch) {
        if (closed) throw new IllegalStateException("the torch runner is closed");
        List<SequenceInput> inputs = batch.sequences();
        try (NDManager stepManager = manager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            kv.copyBlocks(batch.blockCopies());
            if (inputs.isEmpty()) return new StepOutput(List.of(), List.of());
            Step step = new Step(stepManager, dtype, FlatBatch.of(batch, BLOCK_SIZE, spec));
            boolean hidden = batch.hiddenStates() == Batch.HiddenStates.PER_LAYER;
            float[][][][] states = hidden ? new float[inputs.size()][spec.numLayers()][][] : null;
            NDArray x = model.forward(step, kv, hidden ? (layer, residual) -> split(step, residual, layer, states)
                    : TorchModel.BlockObserver.NONE);
            return new StepOutput(logits(step, x), hidden ? Arrays.asList(states) : List.of());
        }
    }

    /** The last row's logits of each sequence that asked (one head product over all of them), NONE for the rest. */
    private List<SequenceOutput> logits(Step step, NDArray x) {
        int[] rows = step.batch.logitRows();
        long[] index = new long[rows.length];
        for (int k = 0; k < rows.length; k++) index[k] = rows[k];
        float[] all = rows.length == 0 ? new float[0] : toFloats(model.logits(x.get(new NDIndex("{}", step.manager.create(index)))));
        int vocab = spec.vocabSize();
        SequenceOutput[] bySequence = new SequenceOutput[step.batch.numSequences()];
        Arrays.fill(bySequence, SequenceOutput.NONE);
        for (int k = 0; k < rows.length; k++) {
            bySequence[step.batch.sequence(rows[k])] = new SequenceOutput.Logits(Arrays.copyOfRange(all, vocab * k, vocab * (k + 1)));
        }
        return Arrays.asList(bySequence);
    }

    /** One layer's residual rows into [sequence][layer][token][hidden]. */
    private void split(Step step, NDArray residual, int layer, float[][][][] states) {
        float[] all = toFloats(residual);
        int hidden = spec.hiddenSize();
        for (int s = 0; s < step.batch.numSequences(); s++) {
            float[][] rows = new float[step.batch.numTokens(s)][];
            for (int i = 0; i < rows.length; i++) {
                int r = step.batch.firstRow(s) + i;
                rows[i] = Arrays.copyOfRange(all, r * hidden, (r + 1) * hidden);
            }
            states[s][layer] = rows;
        }
    }

    private static float[] toFloats(NDArray a) {
        return (a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false)).toFloatArray();
    }

    /** Frees the weights and the KV pool; a second call does nothing. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        kv.close();
        manager.close();
    }
}
