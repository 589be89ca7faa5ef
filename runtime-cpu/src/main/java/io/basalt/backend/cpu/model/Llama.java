package io.basalt.backend.cpu.model;

import io.basalt.backend.FlatBatch;
import io.basalt.backend.cpu.kernels.Parallel;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.layout.LlamaConfig;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.LoadOptions;
import io.basalt.model.layout.ModelInfo;
import io.basalt.model.layout.Rope;
import java.util.List;

/**
 * Llama (RMSNorm, RoPE, grouped-query attention, SwiGLU FFN, no biases); MODELS.md §(c).
 * GGUF and llama2.c checkpoints (GGUF tensor names, Meta's interleaved RoPE layout) and Hugging
 * Face checkpoints (HF names; q/k rows permuted for half-split RoPE, so HF layout uses HALF_SPLIT).
 */
public final class Llama implements Model {
    private record Layer(
            float[] attnNorm,                              // [dim]
            WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, // [heads·hd, dim], [kv·hd, dim] ×2
            WeightMatrix wo,                               // [dim, heads·hd]
            float[] ffnNorm,                               // [dim]
            WeightMatrix gate, WeightMatrix up,            // [hidden, dim] (w1, w3)
            WeightMatrix down) { }                         // [dim, hidden] (w2)

    private final LlamaConfig config;
    private final ModelInfo info;
    private final Checkpoint checkpoint;
    private final WeightMatrix embedding; // [vocab, dim]
    private final Layer[] layers;
    private final float[] finalNorm;      // [dim]
    private final WeightMatrix classifier; // [vocab, dim], the embedding when tied
    private final Rope rope;

    private Llama(LlamaConfig config, Checkpoint checkpoint, WeightMatrix embedding, Layer[] layers, float[] finalNorm,
                  WeightMatrix classifier, Rope rope) {
        this.config = config;
        this.checkpoint = checkpoint;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.classifier = classifier;
        this.rope = rope;
        this.info = ModelInfo.of(checkpoint);
    }

    public static Llama load(Checkpoint checkpoint) { return load(checkpoint, LoadOptions.DEFAULT); }

    public static Llama load(Checkpoint checkpoint, LoadOptions options) {
        LlamaLayout layout = LlamaLayout.of(checkpoint);
        Weights w = new Weights(checkpoint, options);
        Layer[] layers = new Layer[layout.config().numLayers()];
        for (int i = 0; i < layers.length; i++) {
            LlamaLayout.Layer l = layout.layers().get(i);
            layers[i] = new Layer(w.vector(l.attnNorm()), w.matrix(l.wq()), w.matrix(l.wk()), w.matrix(l.wv()),
                    w.matrix(l.wo()), w.vector(l.ffnNorm()), w.matrix(l.gate()), w.matrix(l.up()), w.matrix(l.down()));
        }
        boolean tied = layout.classifier() == null;
        WeightMatrix embedding = tied ? w.classifier(layout.embedding()) : w.matrix(layout.embedding());
        WeightMatrix classifier = tied ? embedding : w.classifier(layout.classifier());
        Llama model = new Llama(layout.config(), checkpoint, embedding, layers, w.vector(layout.finalNorm()), classifier,
                layout.rope());
        w.finish();
        return model;
    }

    public LlamaConfig config() { return config; }

    @Override public ModelInfo info() { return info; }

    @Override
    public List<float[][]> forward(FlatBatch batch, KvStore kv, ResidualObserver observer) {
        float[][] x = ForwardMath.embed(embedding, batch.tokenIds());
        int n = batch.numRows();
        int dim = config.hiddenSize();
        int hd = config.headDim();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int kvDim = config.kvDim();
        int ff = config.intermediateSize();
        float[][] h = new float[n][dim];
        float[][] q = new float[n][heads * hd];
        float[][] k = new float[n][kvDim];
        float[][] v = new float[n][kvDim];
        float[][] att = new float[n][heads * hd];
        float[][] gate = new float[n][ff];
        float[][] up = new float[n][ff];
        float scale = (float) (1.0 / Math.sqrt(hd));
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            int li = l;
            // The per-row steps between the matmuls run on both cores too (rows are independent, and
            // each row's KV slot is its own): serial, they left the second core idle in long prefills.
            Parallel.forRange(n, 8L * dim, (start, end) -> {
                for (int r = start; r < end; r++) ForwardMath.rmsNorm(h[r], x[r], layer.attnNorm(), config.eps());
            });
            layer.wq().matmul(h, q);
            layer.wk().matmul(h, k);
            layer.wv().matmul(h, v);
            Parallel.forRange(n, 16L * (heads + kvHeads) * hd, (start, end) -> {
                for (int r = start; r < end; r++) {
                    int pos = batch.position(r);
                    rope.apply(q[r], heads, hd, pos);
                    rope.apply(k[r], kvHeads, hd, pos);
                    ForwardMath.storeKv(kv, li, batch.slot(r), k[r], 0, v[r], 0, kvDim);
                }
            });
            ForwardMath.attentionRows(batch, kv, l, q, heads, kvHeads, hd, scale, 0, null, att);
            layer.wo().matmul(att, h);
            Parallel.forRange(n, 8L * dim, (start, end) -> {
                for (int r = start; r < end; r++) {
                    ForwardMath.add(x[r], h[r], dim);
                    ForwardMath.rmsNorm(h[r], x[r], layer.ffnNorm(), config.eps());
                }
            });
            layer.gate().matmul(h, gate);
            layer.up().matmul(h, up);
            Parallel.forRange(n, 16L * ff, (start, end) -> { // exp-bound: worth both cores in batches
                for (int r = start; r < end; r++) ForwardMath.siluMul(gate[r], up[r], ff);
            });
            layer.down().matmul(gate, h);
            Parallel.forRange(n, 4L * dim, (start, end) -> {
                for (int r = start; r < end; r++) ForwardMath.add(x[r], h[r], dim);
            });
            for (int r = 0; r < n; r++) observer.afterBlock(l, r, x[r]); // in row order, on this thread
        }
        return ForwardMath.logits(batch, x, (out, row) -> ForwardMath.rmsNorm(out, row, finalNorm, config.eps()), classifier);
    }

    @Override
    public void close() { checkpoint.close(); }
}
