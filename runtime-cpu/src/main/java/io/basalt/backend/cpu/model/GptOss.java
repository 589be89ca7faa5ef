package io.basalt.backend.cpu.model;

import io.basalt.backend.FlatBatch;
import io.basalt.backend.cpu.kernels.Mxfp4Experts;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.layout.GptOssConfig;
import io.basalt.model.layout.LoadOptions;
import io.basalt.model.layout.ModelInfo;
import io.basalt.model.layout.Rope;
import java.util.List;

/**
 * gpt-oss (MODELS.md §(b)): attention with biases, learned sinks, YaRN RoPE and a sliding window
 * on even layers; a top-k mixture of MXFP4 experts with a clamped SwiGLU (the "+1" on the linear
 * half). The weights come from either checkpoint layout through {@link GptOssWeights}.
 */
public final class GptOss implements Model {
    private final GptOssConfig config;
    private final GptOssWeights weights;
    private final Checkpoint checkpoint;
    private final Rope rope;
    private final ModelInfo info;

    private GptOss(GptOssConfig config, GptOssWeights weights, Checkpoint checkpoint) {
        this.config = config;
        this.weights = weights;
        this.checkpoint = checkpoint;
        this.rope = Rope.yarn(config.headDim(), config.ropeTheta(), config.ropeScalingFactor(),
                config.initialContextLength(), config.ropeNtkBeta(), config.ropeNtkAlpha());
        this.info = ModelInfo.of(checkpoint);
    }

    public static GptOss load(Checkpoint checkpoint) { return load(checkpoint, LoadOptions.DEFAULT); }

    /** MXFP4 experts stay MXFP4 whatever the options; they apply to attention, router (no Q8_0), embeddings. */
    public static GptOss load(Checkpoint checkpoint, LoadOptions options) {
        GptOssConfig config = GptOssConfig.from(checkpoint);
        return new GptOss(config, GptOssWeights.load(checkpoint, config, options), checkpoint);
    }

    public GptOssConfig config() { return config; }

    public Rope rope() { return rope; }

    @Override public ModelInfo info() { return info; }

    @Override
    public List<float[][]> forward(FlatBatch batch, KvStore kv, ResidualObserver observer) {
        float[][] x = ForwardMath.embed(weights.embedding(), batch.tokenIds());
        int n = batch.numRows();
        int dim = config.hiddenSize();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int hd = config.headDim();
        int qDim = heads * hd;
        int kvDim = config.kvDim();
        float[][] h = new float[n][dim];
        float[][] q = new float[n][qDim];
        float[][] k = new float[n][kvDim];
        float[][] v = new float[n][kvDim];
        float[][] att = new float[n][qDim];
        float scale = (float) (1.0 / Math.sqrt(hd));
        MoeScratch moe = new MoeScratch(config);
        for (int l = 0; l < config.numLayers(); l++) {
            GptOssWeights.Layer layer = weights.layers()[l];
            for (int r = 0; r < n; r++) ForwardMath.rmsNorm(h[r], x[r], layer.attnNorm(), config.eps());
            layer.wq().matmul(h, q);
            layer.wk().matmul(h, k);
            layer.wv().matmul(h, v);
            for (int r = 0; r < n; r++) {
                int pos = batch.position(r);
                ForwardMath.add(q[r], layer.bq(), qDim);
                ForwardMath.add(k[r], layer.bk(), kvDim);
                ForwardMath.add(v[r], layer.bv(), kvDim);
                rope.apply(q[r], heads, hd, pos);
                rope.apply(k[r], kvHeads, hd, pos);
                ForwardMath.storeKv(kv, l, batch.slot(r), k[r], 0, v[r], 0, kvDim);
            }
            int window = config.isSliding(l) ? config.slidingWindow() : 0;
            ForwardMath.attentionRows(batch, kv, l, q, heads, kvHeads, hd, scale, window, layer.sinks(), att);
            layer.wo().matmul(att, h);
            for (int r = 0; r < n; r++) {
                ForwardMath.add(h[r], layer.bo(), dim);
                ForwardMath.add(x[r], h[r], dim);
                ForwardMath.rmsNorm(h[r], x[r], layer.mlpNorm(), config.eps());
                mixtureOfExperts(layer, h[r], x[r], moe);
                observer.afterBlock(l, r, x[r]);
            }
        }
        return ForwardMath.logits(batch, x, (out, row) -> ForwardMath.rmsNorm(out, row, weights.finalNorm(), config.eps()),
                weights.unembedding());
    }

    private static final class MoeScratch {
        final float[] router;
        final float[] up;
        final float[] act;
        final float[] down;
        final int[] chosen;
        final float[] chosenWeights;

        MoeScratch(GptOssConfig c) {
            router = new float[c.numExperts()];
            up = new float[2 * c.intermediateSize()];
            act = new float[c.intermediateSize()];
            down = new float[c.hiddenSize()];
            chosen = new int[c.expertsPerToken()];
            chosenWeights = new float[c.expertsPerToken()];
        }
    }

    /** residual += Σ_e softmax(top-k router logits)_e · (W2_e · swiglu(W1_e · t + b1_e) + b2_e). */
    private void mixtureOfExperts(GptOssWeights.Layer layer, float[] t, float[] residual, MoeScratch s) {
        layer.router().matvec(t, s.router);
        ForwardMath.add(s.router, layer.routerBias(), s.router.length);
        topK(s.router, s.chosen, s.chosenWeights);
        ForwardMath.softmax(s.chosenWeights, s.chosenWeights.length);
        Mxfp4Experts mlp1 = layer.mlp1();
        Mxfp4Experts mlp2 = layer.mlp2();
        int inter = config.intermediateSize();
        float limit = config.swigluLimit();
        for (int j = 0; j < s.chosen.length; j++) {
            int e = s.chosen[j];
            mlp1.matvec(e, t, s.up);
            int upOff = e * 2 * inter;
            for (int i = 0; i < inter; i++) {
                // gate and linear halves are interleaved (even/odd), not concatenated.
                float gate = Math.min(s.up[2 * i] + layer.mlp1Bias()[upOff + 2 * i], limit);
                float lin = Math.max(-limit, Math.min(limit, s.up[2 * i + 1] + layer.mlp1Bias()[upOff + 2 * i + 1]));
                s.act[i] = gate * ForwardMath.sigmoid(1.702f * gate) * (lin + 1f);
            }
            mlp2.matvec(e, s.act, s.down);
            int downOff = e * config.hiddenSize();
            float w = s.chosenWeights[j];
            for (int i = 0; i < residual.length; i++) residual[i] += w * (s.down[i] + layer.mlp2Bias()[downOff + i]);
        }
    }

    /** The k largest logits in descending order (lower index first on ties, as torch.topk). */
    static void topK(float[] logits, int[] index, float[] value) {
        int k = index.length;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < logits.length; i++) {
                boolean taken = false;
                for (int p = 0; p < j; p++) taken |= index[p] == i;
                if (!taken && (best < 0 || logits[i] > logits[best])) best = i;
            }
            index[j] = best;
            value[j] = logits[best];
        }
    }

    @Override
    public void close() { checkpoint.close(); }
}
