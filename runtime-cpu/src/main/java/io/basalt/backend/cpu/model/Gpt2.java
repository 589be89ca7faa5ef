package io.basalt.backend.cpu.model;

import io.basalt.backend.FlatBatch;
import io.basalt.backend.cpu.kernels.Parallel;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.layout.Gpt2Config;
import io.basalt.model.layout.Gpt2Layout;
import io.basalt.model.layout.LoadOptions;
import io.basalt.model.layout.ModelInfo;
import java.util.List;

/**
 * GPT-2 (pre-LayerNorm, learned positions, tanh GELU, tied lm_head); MODELS.md §(a). Reads the
 * Hugging Face names (Conv1D [in, out] weights, optional "transformer." prefix) and llm.c
 * checkpoints (Linear [out, in] weights under the same names).
 */
public final class Gpt2 implements Model {
    private record Block(
            float[] ln1Weight, float[] ln1Bias,   // [C]
            WeightMatrix qkv, float[] qkvBias,    // [3C, C], [3C]
            WeightMatrix proj, float[] projBias,  // [C, C], [C]
            float[] ln2Weight, float[] ln2Bias,   // [C]
            WeightMatrix fc, float[] fcBias,      // [4C, C], [4C]
            WeightMatrix fcProj, float[] fcProjBias) { } // [C, 4C], [C]

    private final Gpt2Config config;
    private final ModelInfo info;
    private final Checkpoint checkpoint;
    private final WeightMatrix wte;   // [vocab, C], also the lm_head
    private final WeightMatrix wpe;   // [maxPositions, C]
    private final Block[] blocks;
    private final float[] lnfWeight;  // [C]
    private final float[] lnfBias;    // [C]

    private Gpt2(Gpt2Config config, Checkpoint checkpoint, WeightMatrix wte, WeightMatrix wpe, Block[] blocks,
                 float[] lnfWeight, float[] lnfBias) {
        this.config = config;
        this.checkpoint = checkpoint;
        this.wte = wte;
        this.wpe = wpe;
        this.blocks = blocks;
        this.lnfWeight = lnfWeight;
        this.lnfBias = lnfBias;
        this.info = ModelInfo.of(checkpoint);
    }

    public static Gpt2 load(Checkpoint checkpoint) { return load(checkpoint, LoadOptions.DEFAULT); }

    public static Gpt2 load(Checkpoint checkpoint, LoadOptions options) {
        Gpt2Layout layout = Gpt2Layout.of(checkpoint);
        Weights w = new Weights(checkpoint, options);
        Block[] blocks = new Block[layout.config().numLayers()];
        for (int i = 0; i < blocks.length; i++) {
            Gpt2Layout.Block b = layout.block(i);
            blocks[i] = new Block(w.vector(b.ln1Weight()), w.vector(b.ln1Bias()), w.matrix(b.qkv()), w.vector(b.qkvBias()),
                    w.matrix(b.proj()), w.vector(b.projBias()), w.vector(b.ln2Weight()), w.vector(b.ln2Bias()),
                    w.matrix(b.fc()), w.vector(b.fcBias()), w.matrix(b.fcProj()), w.vector(b.fcProjBias()));
        }
        WeightMatrix wte = w.classifier(layout.wte()); // tied lm_head
        WeightMatrix wpe = w.matrix(layout.wpe());
        layout.checkHead(checkpoint);
        w.finish();
        return new Gpt2(layout.config(), checkpoint, wte, wpe, blocks, w.vector(layout.lnfWeight()), w.vector(layout.lnfBias()));
    }

    public Gpt2Config config() { return config; }

    @Override public ModelInfo info() { return info; }

    @Override
    public List<float[][]> forward(FlatBatch batch, KvStore kv, ResidualObserver observer) {
        float[][] x = ForwardMath.embed(wte, batch.tokenIds());
        int n = batch.numRows();
        int c = config.hiddenSize();
        int heads = config.numHeads();
        int hd = config.headDim();
        float[][] h = new float[n][c];
        float[][] qkv = new float[n][3 * c];
        float[][] att = new float[n][c];
        float[][] fc = new float[n][4 * c];
        float[] pos = new float[c];
        for (int r = 0; r < n; r++) {
            wpe.row(batch.position(r), pos);
            ForwardMath.add(x[r], pos, c);
        }
        float scale = (float) (1.0 / Math.sqrt(hd));
        for (int l = 0; l < blocks.length; l++) {
            Block blk = blocks[l];
            int layer = l;
            // The per-row steps between the matmuls run on both cores too (in a 512-token prefill they
            // left the second core idle for about a tenth of the time); rows are independent, and each
            // row's KV slot is its own.
            Parallel.forRange(n, 16L * c, (start, end) -> {
                for (int r = start; r < end; r++) ForwardMath.layerNorm(h[r], x[r], blk.ln1Weight(), blk.ln1Bias(), config.eps());
            });
            blk.qkv().matmul(h, qkv);
            Parallel.forRange(n, 16L * c, (start, end) -> {
                for (int r = start; r < end; r++) {
                    ForwardMath.add(qkv[r], blk.qkvBias(), 3 * c);
                    ForwardMath.storeKv(kv, layer, batch.slot(r), qkv[r], c, qkv[r], 2 * c, c);
                }
            });
            ForwardMath.attentionRows(batch, kv, l, qkv, heads, heads, hd, scale, 0, null, att);
            blk.proj().matmul(att, h);
            Parallel.forRange(n, 16L * c, (start, end) -> {
                for (int r = start; r < end; r++) {
                    ForwardMath.add(h[r], blk.projBias(), c);
                    ForwardMath.add(x[r], h[r], c);
                    ForwardMath.layerNorm(h[r], x[r], blk.ln2Weight(), blk.ln2Bias(), config.eps());
                }
            });
            blk.fc().matmul(h, fc);
            Parallel.forRange(n, 64L * c, (start, end) -> { // exp-bound: worth both cores in batches
                for (int r = start; r < end; r++) {
                    ForwardMath.add(fc[r], blk.fcBias(), 4 * c);
                    ForwardMath.geluTanh(fc[r], 4 * c);
                }
            });
            blk.fcProj().matmul(fc, h);
            Parallel.forRange(n, 8L * c, (start, end) -> {
                for (int r = start; r < end; r++) {
                    ForwardMath.add(h[r], blk.fcProjBias(), c);
                    ForwardMath.add(x[r], h[r], c);
                }
            });
            for (int r = 0; r < n; r++) observer.afterBlock(l, r, x[r]); // in row order, on this thread
        }
        return ForwardMath.logits(batch, x, (out, row) -> ForwardMath.layerNorm(out, row, lnfWeight, lnfBias, config.eps()), wte);
    }

    @Override
    public void close() { checkpoint.close(); }
}
