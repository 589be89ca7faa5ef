package io.basalt.backend.cuda;

import io.basalt.backend.FlatBatch;
import io.basalt.backend.cuda.Cuda.HostBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormats;
import io.basalt.model.layout.Gpt2Layout;
import io.basalt.model.layout.GptOssLayout;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Logger;

/**
 * A model on one GPU (docs/CUDA.md §6): DYNAMIC shapes, mixed prefill/decode, a PAGED(16) fp32 KV pool sized from the
 * budget, logits back to the engine. Every Cuda call runs on the device's own platform thread ({@link DeviceThread});
 * {@link #execute} hands the step over and waits. A step: block copies, the inputs in one upload, the forward's
 * launches (or a decode graph's replay), the logit rows back in one copy.
 */
public final class CudaModelRunner implements ModelRunner {
    static final int BLOCK_SIZE = 16;
    private static final Logger LOG = Logger.getLogger("basalt.cuda");

    private final DeviceThread thread;
    private final int device;
    private Cuda cuda;
    private Kernels kernels;
    private java.util.Optional<CublasLt> lt = java.util.Optional.empty();
    private Stream stream;
    private DeviceMemory weights;
    private KvCache kv;
    private ModelForward forward;
    private Matmuls matmuls;
    private int bf16Cols;
    private StepInputs inputs;
    private DecodeGraphs graphs;
    private HostBuffer logitsHost;
    private long logitsHostBytes;
    private ModelSpec spec;
    private Capabilities capabilities;
    private boolean graphsEnabled;
    private int tableWidth;
    private boolean closed;

    private CudaModelRunner(DeviceThread thread, int device) {
        this.thread = thread;
        this.device = device;
    }

    /** Opens the driver, uploads the model and sizes the KV pool, all on the device's thread. */
    static CudaModelRunner load(Path model, Backend.LoadConfig config, int device) {
        if (!Kernels.hasFatbin()) throw new IllegalStateException("backend 'cuda': " + Kernels.NO_GPU_CODE);
        DeviceThread thread = new DeviceThread(device);
        CudaModelRunner runner = new CudaModelRunner(thread, device);
        try {
            thread.run(() -> {
                try {
                    runner.open(model, config);
                } catch (RuntimeException | Error e) {
                    runner.release();
                    throw e;
                }
            });
        } catch (RuntimeException | Error e) {
            thread.close();
            throw e;
        }
        return runner;
    }

    /** On the device thread. */
    private void open(Path model, Backend.LoadConfig config) {
        cuda = Cuda.open(null);
        cuda.makeCurrent(device);
        kernels = Kernels.load(cuda);
        lt = CublasLt.open(cuda, null);
        stream = cuda.newStream();
        try (Checkpoint checkpoint = ModelFormats.open(model)) {
            ModelInfo info = ModelInfo.of(checkpoint);
            boolean bf16 = DeviceWeights.storesBf16(config.storage(), config.quantization(), matrixDtype(checkpoint, info));
            spec = info.spec(DType.F32);
            int blocks = info.kv().numBlocks(config.kvCacheMemoryBytes(), BLOCK_SIZE, DType.F32);
            // int32 slots on the device: the pool (and its scratch block) must stay addressable
            if ((long) (blocks + 1) * BLOCK_SIZE > Integer.MAX_VALUE) blocks = Integer.MAX_VALUE / BLOCK_SIZE - 1;
            kv = new KvCache(cuda, info.numLayers(), blocks, BLOCK_SIZE, info.kv().kvDim());
            weights = new DeviceMemory(cuda);
            DeviceWeights w = new DeviceWeights(checkpoint, weights, bf16);
            Matmuls mm = new Matmuls(cuda, kernels, lt);
            matmuls = mm;
            forward = switch (info.architecture()) {
                case GPT2 -> new CudaGpt2(checkpoint, w, kernels, mm, kv, cuda);
                case LLAMA -> new CudaLlama(checkpoint, w, kernels, mm, kv, cuda);
                case GPT_OSS -> new CudaGptOss(checkpoint, w, kernels, mm, kv, cuda);
            };
            tableWidth = (int) Math.min((spec.maxPositions() + (long) BLOCK_SIZE - 1) / BLOCK_SIZE, blocks);
            int rows = Math.max(config.maxNumBatchedTokens(), DecodeGraphs.bucket(config.maxNumSeqs()));
            bf16Cols = w.maxBf16Cols();
            forward.reserve(rows);
            mm.reserve(rows, bf16Cols);
            inputs = new StepInputs(cuda, rows, tableWidth);
            graphs = new DecodeGraphs(cuda);
            graphsEnabled = Boolean.parseBoolean(System.getProperty("basalt.cuda.graphs", "true"));
            capabilities = new Capabilities(new ShapePolicy.Dynamic(), true, new KvLayout.Paged(BLOCK_SIZE), blocks, false);
            int numBlocks = blocks;
            LOG.info(() -> "cuda: " + model.getFileName() + " on " + cuda.deviceName(device) + ", matrices " + (bf16 ? "bf16" : "fp32")
                    + ", " + (weights.bytes() >> 20) + " MiB of weights, " + numBlocks + " KV blocks, graphs " + (graphsEnabled ? "on" : "off")
                    + ", cuBLASLt " + lt.map(l -> l.library().toString()).orElse("not found (" + CublasLt.notFound(null) + ")"));
        }
    }

    /** The stored type of the model's float matrices (its embedding), which AUTO storage follows. */
    private static DType matrixDtype(Checkpoint checkpoint, ModelInfo info) {
        String name = switch (info.architecture()) {
            case GPT2 -> Gpt2Layout.of(checkpoint).wte().name();
            case LLAMA -> LlamaLayout.of(checkpoint).embedding().name();
            case GPT_OSS -> GptOssLayout.of(checkpoint).embedding().name();
        };
        return checkpoint.tensor(name).dtype();
    }

    @Override public ModelSpec spec() { return spec; }

    @Override public Capabilities capabilities() { return capabilities; }

    /** Decode graphs captured so far (for tests and the check command). */
    int graphCaptures() { return thread.call(() -> graphs.captures()); }

    @Override
    public StepOutput execute(Batch batch) {
        return thread.call(() -> {
            if (closed) throw new IllegalStateException("the cuda runner is closed");
            return step(batch);
        });
    }

    /** On the device thread. */
    private StepOutput step(Batch batch) {
        kv.copyBlocks(batch.blockCopies(), stream);
        List<SequenceInput> seqs = batch.sequences();
        if (seqs.isEmpty()) {
            cuda.synchronize(stream);
            return new StepOutput(List.of(), List.of());
        }
        FlatBatch fb = FlatBatch.of(batch, BLOCK_SIZE, spec);
        int n = fb.numRows();
        boolean hidden = batch.hiddenStates() == Batch.HiddenStates.PER_LAYER;
        boolean decode = graphsEnabled && !hidden && n == fb.numSequences();
        int rows = decode ? DecodeGraphs.bucket(n) : n;
        reserve(rows);
        int[] logitRows;
        if (decode) {
            logitRows = new int[rows];
            for (int i = 0; i < rows; i++) logitRows[i] = i;
        } else {
            logitRows = fb.logitRows();
        }
        int[][] tables = new int[seqs.size()][];
        for (int s = 0; s < tables.length; s++) tables[s] = seqs.get(s).blockTable();
        inputs.fill(fb, tables, rows, logitRows, kv.scratchBlock(), kv.scratchSlot());
        inputs.upload(stream);
        int m = logitRows.length;
        HostBuffer hiddenHost = null;
        try {
            if (decode) {
                graphs.launch(rows, stream, () -> forward.enqueue(stream, inputs, rows, rows, ModelForward.LayerObserver.NONE));
            } else if (hidden) {
                long layerBytes = 4L * n * spec.hiddenSize();
                HostBuffer hh = cuda.allocPinned(layerBytes * spec.numLayers());
                hiddenHost = hh;
                forward.enqueue(stream, inputs, n, m, layer -> cuda.copyToHost(hh.segment().asSlice(layer * layerBytes, layerBytes),
                        forward.residual().slice(0, layerBytes), stream));
            } else {
                forward.enqueue(stream, inputs, n, m, ModelForward.LayerObserver.NONE);
            }
            int vocab = spec.vocabSize();
            long logitBytes = 4L * m * vocab;
            if (m > 0) cuda.copyToHost(logitsHost(logitBytes).asSlice(0, logitBytes), forward.logits().slice(0, logitBytes), stream);
            cuda.synchronize(stream);
            SequenceOutput[] out = new SequenceOutput[seqs.size()];
            Arrays.fill(out, SequenceOutput.NONE);
            MemorySegment host = m > 0 ? logitsHost.segment() : null;
            for (int i = 0; i < m; i++) {
                int s = decode ? i : fb.sequence(logitRows[i]);
                if (s >= seqs.size() || !seqs.get(s).needLogits()) continue; // a padded row, or a decode that did not ask
                float[] values = new float[vocab];
                MemorySegment.copy(host, ValueLayout.JAVA_FLOAT, 4L * i * vocab, values, 0, vocab);
                out[s] = new SequenceOutput.Logits(values);
            }
            return new StepOutput(Arrays.asList(out), hidden ? hiddenStates(fb, hiddenHost.segment()) : List.of());
        } finally {
            if (hiddenHost != null) cuda.free(hiddenHost);
        }
    }

    /** Scratch and inputs for {@code rows}; growing either moves buffers that graphs captured, so the graphs go. */
    private void reserve(int rows) {
        boolean moved = forward.reserve(rows);
        moved |= matmuls.reserve(rows, bf16Cols);
        if (rows > inputs.capacity()) {
            inputs.close();
            inputs = null;
            inputs = new StepInputs(cuda, rows, tableWidth);
            moved = true;
        }
        if (moved) graphs.invalidate();
    }

    private MemorySegment logitsHost(long bytes) {
        if (logitsHost == null || logitsHostBytes < bytes) {
            if (logitsHost != null) cuda.free(logitsHost);
            logitsHost = null;
            logitsHost = cuda.allocPinned(bytes);
            logitsHostBytes = bytes;
        }
        return logitsHost.segment();
    }

    /** [sequence][layer][token][hidden] out of the per-layer copies [layer][row][hidden]. */
    private List<float[][][]> hiddenStates(FlatBatch fb, MemorySegment host) {
        int d = spec.hiddenSize();
        int n = fb.numRows();
        List<float[][][]> states = new ArrayList<>();
        for (int s = 0; s < fb.numSequences(); s++) {
            float[][][] seq = new float[spec.numLayers()][fb.numTokens(s)][d];
            for (int l = 0; l < spec.numLayers(); l++) {
                for (int t = 0; t < fb.numTokens(s); t++) {
                    long at = 4L * (((long) l * n + fb.firstRow(s) + t) * d);
                    MemorySegment.copy(host, ValueLayout.JAVA_FLOAT, at, seq[l][t], 0, d);
                }
            }
            states.add(seq);
        }
        return states;
    }

    /** Frees everything on the device thread, then the context; a second call does nothing. */
    @Override
    public void close() {
        if (closed) return;
        try {
            thread.run(() -> {
                closed = true;
                release();
            });
        } finally {
            thread.close();
        }
    }

    /** On the device thread: whatever was created, in reverse; the first failure is rethrown after the rest. */
    private void release() {
        RuntimeException first = null;
        List<Runnable> steps = new ArrayList<>();
        if (graphs != null) steps.add(graphs::close);
        if (inputs != null) steps.add(inputs::close);
        if (logitsHost != null) steps.add(() -> cuda.free(logitsHost));
        if (forward != null) steps.add(forward::close);
        if (matmuls != null) steps.add(matmuls::close);
        if (kv != null) steps.add(kv::close);
        if (weights != null) steps.add(weights::close);
        lt.ifPresent(l -> steps.add(l::close));
        if (kernels != null) steps.add(kernels::close);
        if (stream != null) steps.add(() -> cuda.destroy(stream));
        if (cuda != null) steps.add(cuda::close);
        for (Runnable r : steps) {
            try {
                r.run();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        graphs = null;
        inputs = null;
        logitsHost = null;
        forward = null;
        matmuls = null;
        kv = null;
        weights = null;
        kernels = null;
        lt = java.util.Optional.empty();
        stream = null;
        cuda = null;
        if (first != null) throw first;
    }
}
