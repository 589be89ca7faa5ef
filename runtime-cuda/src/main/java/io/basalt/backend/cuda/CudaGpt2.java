package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import io.basalt.model.Checkpoint;
import io.basalt.model.layout.Gpt2Config;
import io.basalt.model.layout.Gpt2Layout;
import io.basalt.model.layout.ModelInfo;

/**
 * GPT-2 in the CPU forward's order: wte[id] + wpe[pos]; per block LayerNorm, fused qkv (+bias), K/V into the pool,
 * causal attention, proj (+bias), residual, LayerNorm, fc (+bias), GELU (tanh), proj (+bias), residual; the final
 * LayerNorm on the gathered logit rows and the head tied to wte.
 */
final class CudaGpt2 implements ModelForward {
    private record Block(DeviceBuffer ln1w, DeviceBuffer ln1b, DeviceWeights.Matrix qkv, DeviceBuffer qkvBias,
                         DeviceWeights.Matrix proj, DeviceBuffer projBias, DeviceBuffer ln2w, DeviceBuffer ln2b,
                         DeviceWeights.Matrix fc, DeviceBuffer fcBias, DeviceWeights.Matrix fcProj, DeviceBuffer fcProjBias) { }

    private record Act(Scratch scratch, DeviceBuffer x, DeviceBuffer h, DeviceBuffer tmp, DeviceBuffer qkv, DeviceBuffer att,
                       DeviceBuffer fc, DeviceBuffer gathered, DeviceBuffer logits) { }

    private final ModelInfo info;
    private final Gpt2Config c;
    private final Kernels k;
    private final Matmuls mm;
    private final KvCache kv;
    private final DeviceWeights.Matrix wte;
    private final DeviceWeights.Matrix wpe;
    private final DeviceBuffer lnfW;
    private final DeviceBuffer lnfB;
    private final Block[] blocks;
    private final Cuda cuda;
    private Act act;

    CudaGpt2(Checkpoint checkpoint, DeviceWeights w, Kernels k, Matmuls mm, KvCache kv, Cuda cuda) {
        Gpt2Layout layout = Gpt2Layout.of(checkpoint);
        layout.checkHead(checkpoint);
        this.info = ModelInfo.of(checkpoint);
        this.c = layout.config();
        this.k = k;
        this.mm = mm;
        this.kv = kv;
        this.cuda = cuda;
        this.wte = w.classifier(layout.wte()); // tied: the head, kept as stored (the embedding reads it too, as on the CPU)
        this.wpe = w.matrix(layout.wpe());
        this.lnfW = w.vector(layout.lnfWeight());
        this.lnfB = w.vector(layout.lnfBias());
        this.blocks = new Block[c.numLayers()];
        for (int i = 0; i < blocks.length; i++) {
            Gpt2Layout.Block b = layout.block(i);
            blocks[i] = new Block(w.vector(b.ln1Weight()), w.vector(b.ln1Bias()), w.matrix(b.qkv()), w.vector(b.qkvBias()),
                    w.matrix(b.proj()), w.vector(b.projBias()), w.vector(b.ln2Weight()), w.vector(b.ln2Bias()),
                    w.matrix(b.fc()), w.vector(b.fcBias()), w.matrix(b.fcProj()), w.vector(b.fcProjBias()));
        }
    }

    @Override public ModelInfo info() { return info; }

    @Override
    public boolean reserve(int rows) {
        if (act != null && act.scratch().rows() >= rows) return false;
        close();
        Scratch s = new Scratch(cuda, rows);
        int d = c.hiddenSize();
        act = new Act(s, s.rowsOf(d), s.rowsOf(d), s.rowsOf(d), s.rowsOf(3L * d), s.rowsOf(d), s.rowsOf(4L * d), s.rowsOf(d),
                s.rowsOf(c.vocabSize()));
        return true;
    }

    @Override
    public void enqueue(Stream s, StepInputs in, int n, int m, LayerObserver observer) {
        Act a = act;
        int d = c.hiddenSize();
        int heads = c.numHeads();
        int hd = c.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        k.embed(s, a.x(), wte.data(), wte.bf16(), in.ids(), n, d);
        k.embed(s, a.tmp(), wpe.data(), wpe.bf16(), in.positions(), n, d);
        k.add(s, a.x(), a.tmp(), (long) n * d);
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            k.layernorm(s, a.h(), a.x(), b.ln1w(), b.ln1b(), n, d, c.eps());
            mm.run(s, a.qkv(), b.qkv(), a.h(), b.qkvBias(), n);
            k.kvStore(s, kv.keys(l), kv.values(l), a.qkv(), 3 * d, d, 2 * d, in.slots(), n, d);
            k.attention(s, a.att(), a.qkv(), 3 * d, 0, kv.keys(l), kv.values(l), in.tables(), in.tableWidth(), in.rowSeq(),
                    in.positions(), n, heads, heads, hd, CudaModelRunner.BLOCK_SIZE, scale, 0, null);
            mm.run(s, a.h(), b.proj(), a.att(), b.projBias(), n);
            k.add(s, a.x(), a.h(), (long) n * d);
            k.layernorm(s, a.h(), a.x(), b.ln2w(), b.ln2b(), n, d, c.eps());
            mm.run(s, a.fc(), b.fc(), a.h(), b.fcBias(), n);
            k.gelu(s, a.fc(), 4L * n * d);
            mm.run(s, a.h(), b.fcProj(), a.fc(), b.fcProjBias(), n);
            k.add(s, a.x(), a.h(), (long) n * d);
            observer.afterLayer(l);
        }
        if (m == 0) return;
        k.gather(s, a.gathered(), a.x(), in.logitRows(), m, d);
        k.layernorm(s, a.tmp(), a.gathered(), lnfW, lnfB, m, d, c.eps());
        mm.run(s, a.logits(), wte, a.tmp(), null, m);
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
