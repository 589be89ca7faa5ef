package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import io.basalt.model.Checkpoint;
import io.basalt.model.layout.LlamaConfig;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.ModelInfo;
import io.basalt.model.layout.Rope;

/**
 * Llama in the CPU forward's order: per layer RMSNorm, q/k/v (one product over the rows of wq, wk and wv stacked), RoPE
 * on q and k (the layout's style and frequencies), K/V into the pool, grouped-query attention, wo, residual, RMSNorm,
 * gate and up, SwiGLU, down, residual; the final RMSNorm on the gathered rows and the head (tied when the checkpoint
 * has none).
 */
final class CudaLlama implements ModelForward {
    private record Layer(DeviceBuffer attnNorm, DeviceWeights.Matrix qkv, DeviceWeights.Matrix wo, DeviceBuffer ffnNorm,
                         DeviceWeights.Matrix gate, DeviceWeights.Matrix up, DeviceWeights.Matrix down) { }

    private record Act(Scratch scratch, DeviceBuffer x, DeviceBuffer h, DeviceBuffer qkv, DeviceBuffer att, DeviceBuffer gate,
                       DeviceBuffer up, DeviceBuffer ff, DeviceBuffer gathered, DeviceBuffer normed, DeviceBuffer logits) { }

    private final ModelInfo info;
    private final LlamaConfig c;
    private final Kernels k;
    private final Matmuls mm;
    private final KvCache kv;
    private final Cuda cuda;
    private final DeviceWeights.Matrix embedding;
    private final DeviceWeights.Matrix head;
    private final DeviceBuffer finalNorm;
    private final DeviceBuffer invFreq;
    private final Rope rope;
    private final Layer[] layers;
    private Act act;

    CudaLlama(Checkpoint checkpoint, DeviceWeights w, Kernels k, Matmuls mm, KvCache kv, Cuda cuda) {
        LlamaLayout layout = LlamaLayout.of(checkpoint);
        this.info = ModelInfo.of(checkpoint);
        this.c = layout.config();
        this.k = k;
        this.mm = mm;
        this.kv = kv;
        this.cuda = cuda;
        this.rope = layout.rope();
        this.embedding = layout.classifier() == null ? w.classifier(layout.embedding()) : w.matrix(layout.embedding());
        this.head = layout.classifier() == null ? embedding : w.classifier(layout.classifier());
        this.finalNorm = w.vector(layout.finalNorm());
        this.invFreq = w.floats(rope.invFreq());
        this.layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            LlamaLayout.Layer l = layout.layers().get(i);
            layers[i] = new Layer(w.vector(l.attnNorm()), w.matrix(l.wq(), l.wk(), l.wv()), w.matrix(l.wo()), w.vector(l.ffnNorm()),
                    w.matrix(l.gate()), w.matrix(l.up()), w.matrix(l.down()));
        }
    }

    @Override public ModelInfo info() { return info; }

    @Override
    public boolean reserve(int rows) {
        if (act != null && act.scratch().rows() >= rows) return false;
        close();
        Scratch s = new Scratch(cuda, rows);
        int d = c.hiddenSize();
        int q = c.numHeads() * c.headDim();
        int ff = c.intermediateSize();
        act = new Act(s, s.rowsOf(d), s.rowsOf(d), s.rowsOf(q + 2L * c.kvDim()), s.rowsOf(q), s.rowsOf(ff), s.rowsOf(ff), s.rowsOf(ff),
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
        int ff = c.intermediateSize();
        boolean half = rope.style() == Rope.Style.HALF_SPLIT;
        float scale = (float) (1.0 / Math.sqrt(hd));
        k.embed(s, a.x(), embedding.data(), embedding.bf16(), in.ids(), n, d);
        for (int l = 0; l < layers.length; l++) {
            Layer y = layers[l];
            k.rmsnorm(s, a.h(), a.x(), y.attnNorm(), n, d, c.eps());
            mm.run(s, a.qkv(), y.qkv(), a.h(), null, n);
            k.rope(s, a.qkv(), stride, 0, in.positions(), invFreq, rope.concentration(), n, heads, hd, rope.rotaryDims(), half);
            k.rope(s, a.qkv(), stride, qDim, in.positions(), invFreq, rope.concentration(), n, kvHeads, hd, rope.rotaryDims(), half);
            k.kvStore(s, kv.keys(l), kv.values(l), a.qkv(), stride, qDim, qDim + kvDim, in.slots(), n, kvDim);
            k.attention(s, a.att(), a.qkv(), stride, 0, kv.keys(l), kv.values(l), in.tables(), in.tableWidth(), in.rowSeq(),
                    in.positions(), n, heads, kvHeads, hd, CudaModelRunner.BLOCK_SIZE, scale, 0, null);
            mm.run(s, a.h(), y.wo(), a.att(), null, n);
            k.add(s, a.x(), a.h(), (long) n * d);
            k.rmsnorm(s, a.h(), a.x(), y.ffnNorm(), n, d, c.eps());
            mm.run(s, a.gate(), y.gate(), a.h(), null, n);
            mm.run(s, a.up(), y.up(), a.h(), null, n);
            k.swiglu(s, a.ff(), a.gate(), a.up(), (long) n * ff);
            mm.run(s, a.h(), y.down(), a.ff(), null, n);
            k.add(s, a.x(), a.h(), (long) n * d);
            observer.afterLayer(l);
        }
        if (m == 0) return;
        k.gather(s, a.gathered(), a.x(), in.logitRows(), m, d);
        k.rmsnorm(s, a.normed(), a.gathered(), finalNorm, m, d, c.eps());
        mm.run(s, a.logits(), head, a.normed(), null, m);
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
