package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.GptOssConfig;
import io.basalt.model.layout.GptOssLayout;
import io.basalt.model.layout.ModelInfo;
import io.basalt.model.layout.Rope;

/**
 * gpt-oss in the CPU forward's order (GptOss.java): per layer RMSNorm; q/k/v with their biases (one product, the rows
 * and biases stacked); YaRN RoPE (half-split, cos/sin scaled by the concentration) on q and k; K/V into the pool;
 * attention with the learned sinks and, on sliding layers, the window; o (+bias); residual; RMSNorm; router (+bias) →
 * top-k with softmax over the chosen → MXFP4 mlp1 (+bias, every slot reads its row's x) → clamped SwiGLU → MXFP4 mlp2
 * (+bias, each slot its own input) → the weighted sum → residual. Experts stay MXFP4 on the device, as stored.
 */
final class CudaGptOss implements ModelForward {
    private record Layer(DeviceBuffer attnNorm, DeviceWeights.Matrix qkv, DeviceBuffer qkvBias, DeviceBuffer sinks,
                         DeviceWeights.Matrix wo, DeviceBuffer bo, DeviceBuffer mlpNorm, DeviceWeights.Matrix router,
                         DeviceBuffer routerBias, DeviceBuffer mlp1Blocks, DeviceBuffer mlp1Scales, DeviceBuffer mlp1Bias,
                         DeviceBuffer mlp2Blocks, DeviceBuffer mlp2Scales, DeviceBuffer mlp2Bias) { }

    private record Act(Scratch scratch, DeviceBuffer x, DeviceBuffer h, DeviceBuffer qkv, DeviceBuffer att, DeviceBuffer router,
                       DeviceBuffer ids, DeviceBuffer weights, DeviceBuffer up, DeviceBuffer glu, DeviceBuffer down,
                       DeviceBuffer gathered, DeviceBuffer normed, DeviceBuffer logits) { }

    private final ModelInfo info;
    private final GptOssConfig c;
    private final Kernels k;
    private final Matmuls mm;
    private final KvCache kv;
    private final Cuda cuda;
    private final Rope rope;
    private final DeviceBuffer invFreq;
    private final DeviceWeights.Matrix embedding;
    private final DeviceWeights.Matrix unembedding;
    private final DeviceBuffer finalNorm;
    private final Layer[] layers;
    private Act act;

    CudaGptOss(Checkpoint checkpoint, DeviceWeights w, Kernels k, Matmuls mm, KvCache kv, Cuda cuda) {
        GptOssLayout layout = GptOssLayout.of(checkpoint);
        this.info = ModelInfo.of(checkpoint);
        this.c = layout.config();
        this.k = k;
        this.mm = mm;
        this.kv = kv;
        this.cuda = cuda;
        this.rope = Rope.yarn(c.headDim(), c.ropeTheta(), c.ropeScalingFactor(), c.initialContextLength(), c.ropeNtkBeta(),
                c.ropeNtkAlpha());
        this.invFreq = w.floats(rope.invFreq());
        this.embedding = w.matrix(layout.embedding());
        this.unembedding = w.classifier(layout.unembedding());
        this.finalNorm = w.vector(layout.finalNorm());
        this.layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            GptOssLayout.Layer l = layout.layers().get(i);
            TensorInfo[] m1 = l.mlp1().tensors(checkpoint);
            TensorInfo[] m2 = l.mlp2().tensors(checkpoint);
            layers[i] = new Layer(w.vector(l.attnNorm()), w.matrix(l.wq(), l.wk(), l.wv()), w.vector(l.bq(), l.bk(), l.bv()),
                    w.vector(l.sinks()), w.matrix(l.wo()), w.vector(l.bo()), w.vector(l.mlpNorm()), w.matrix(l.router()),
                    w.vector(l.routerBias()), w.raw(m1[0]), w.raw(m1[1]), w.vector(l.mlp1Bias()),
                    w.raw(m2[0]), w.raw(m2[1]), w.vector(l.mlp2Bias()));
        }
    }

    /** The dtype of the checkpoint's float matrices (for AUTO storage). */
    static DType matrixDtype(Checkpoint checkpoint) {
        return checkpoint.tensor(GptOssLayout.of(checkpoint).embedding().name()).dtype();
    }

    @Override public ModelInfo info() { return info; }

    @Override
    public boolean reserve(int rows) {
        if (act != null && act.scratch().rows() >= rows) return false;
        close();
        Scratch s = new Scratch(cuda, rows);
        int d = c.hiddenSize();
        int q = c.numHeads() * c.headDim();
        long kk = c.expertsPerToken();
        long inter = c.intermediateSize();
        act = new Act(s, s.rowsOf(d), s.rowsOf(d), s.rowsOf(q + 2L * c.kvDim()), s.rowsOf(q), s.rowsOf(c.numExperts()),
                s.rowsOf(kk), s.rowsOf(kk), s.rowsOf(kk * 2 * inter), s.rowsOf(kk * inter), s.rowsOf(kk * d),
                s.rowsOf(d), s.rowsOf(d), s.rowsOf(c.vocabSize()));
        return true;
    }

    @Override
    public void enqueue(Stream s, StepInputs in, int n, int m, LayerObserver observer) {
        Act a = act;
        int d = c.hiddenSize();
        int heads = c.numHeads();
        int kvHeads = c.numKvHeads();
        int hd = c.headDim();
        int qDim = heads * hd;
        int kvDim = c.kvDim();
        int stride = qDim + 2 * kvDim;
        int experts = c.numExperts();
        int topK = c.expertsPerToken();
        int inter = c.intermediateSize();
        float scale = (float) (1.0 / Math.sqrt(hd));
        k.embed(s, a.x(), embedding.data(), embedding.bf16(), in.ids(), n, d);
        for (int l = 0; l < layers.length; l++) {
            Layer y = layers[l];
            k.rmsnorm(s, a.h(), a.x(), y.attnNorm(), n, d, c.eps());
            mm.run(s, a.qkv(), y.qkv(), a.h(), y.qkvBias(), n);
            k.rope(s, a.qkv(), stride, 0, in.positions(), invFreq, rope.concentration(), n, heads, hd, rope.rotaryDims(), true);
            k.rope(s, a.qkv(), stride, qDim, in.positions(), invFreq, rope.concentration(), n, kvHeads, hd, rope.rotaryDims(), true);
            k.kvStore(s, kv.keys(l), kv.values(l), a.qkv(), stride, qDim, qDim + kvDim, in.slots(), n, kvDim);
            int window = c.isSliding(l) ? c.slidingWindow() : 0;
            k.attention(s, a.att(), a.qkv(), stride, 0, kv.keys(l), kv.values(l), in.tables(), in.tableWidth(), in.rowSeq(),
                    in.positions(), n, heads, kvHeads, hd, CudaModelRunner.BLOCK_SIZE, scale, window, y.sinks());
            mm.run(s, a.h(), y.wo(), a.att(), y.bo(), n);
            k.add(s, a.x(), a.h(), (long) n * d);
            k.rmsnorm(s, a.h(), a.x(), y.mlpNorm(), n, d, c.eps());
            mm.run(s, a.router(), y.router(), a.h(), y.routerBias(), n);
            k.moeTopk(s, a.ids(), a.weights(), a.router(), n, experts, topK);
            k.mxfp4Matmul(s, a.up(), y.mlp1Blocks(), y.mlp1Scales(), y.mlp1Bias(), a.h(), false, a.ids(), n, topK, 2 * inter, d);
            k.swigluOss(s, a.glu(), a.up(), n * topK, inter, c.swigluLimit());
            k.mxfp4Matmul(s, a.down(), y.mlp2Blocks(), y.mlp2Scales(), y.mlp2Bias(), a.glu(), true, a.ids(), n, topK, d, inter);
            k.moeCombine(s, a.h(), a.down(), a.weights(), n, topK, d); // overwrites h: the residual add is its own kernel
            k.add(s, a.x(), a.h(), (long) n * d);
            observer.afterLayer(l);
        }
        if (m == 0) return;
        k.gather(s, a.gathered(), a.x(), in.logitRows(), m, d);
        k.rmsnorm(s, a.normed(), a.gathered(), finalNorm, m, d, c.eps());
        mm.run(s, a.logits(), unembedding, a.normed(), null, m);
    }

    @Override public DeviceBuffer logits() { return act.logits(); }

    @Override public DeviceBuffer residual() { return act.x(); }

    @Override
    public void close() {
        if (act != null) {
            act.scratch().close();
            act = null;
        }
    }
}
