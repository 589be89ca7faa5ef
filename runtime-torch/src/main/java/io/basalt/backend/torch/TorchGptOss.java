package io.basalt.backend.torch;

import static io.basalt.backend.torch.TorchOps.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Activation;
import io.basalt.model.layout.GptOssConfig;
import io.basalt.model.layout.GptOssLayout;
import io.basalt.model.layout.ModelInfo;
import io.basalt.model.layout.Rope;
import java.util.ArrayList;
import java.util.List;

/**
 * gpt-oss: attention with biases, learned sinks, YaRN RoPE and sliding windows on the configured
 * layers; a top-k mixture of experts (MXFP4, dequantized at load) with the clamped SwiGLU.
 */
record TorchGptOss(ModelInfo info, GptOssConfig config, Rope rope, NDArray embedding, Layer[] layers, NDArray finalNorm,
                   NDArray unembedding) implements TorchModel {

    /** Experts hold mlp1 with the gate rows first, then the linear rows (de-interleaved at load). */
    record Layer(NDArray attnNorm, NDArray wq, NDArray bq, NDArray wk, NDArray bk, NDArray wv, NDArray bv, NDArray sinks,
                 NDArray wo, NDArray bo, NDArray mlpNorm, NDArray router, NDArray routerBias, NDArray[] mlp1,
                 NDArray[] mlp1Bias, NDArray[] mlp2, NDArray[] mlp2Bias) { }

    static TorchGptOss load(GptOssLayout layout, TorchWeights w, ModelInfo info) {
        GptOssConfig c = layout.config();
        int experts = c.numExperts();
        int inter = c.intermediateSize();
        Layer[] layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            GptOssLayout.Layer l = layout.layers().get(i);
            NDArray[] mlp1 = new NDArray[experts];
            NDArray[] mlp1Bias = new NDArray[experts];
            NDArray[] mlp2 = new NDArray[experts];
            NDArray[] mlp2Bias = new NDArray[experts];
            float[] b1 = w.floats(l.mlp1Bias());
            float[] b2 = w.floats(l.mlp2Bias());
            for (int e = 0; e < experts; e++) {
                mlp1[e] = w.expert(l.mlp1(), e, true);
                mlp1Bias[e] = w.expertBias(b1, e, 2 * inter, true);
                mlp2[e] = w.expert(l.mlp2(), e, false);
                mlp2Bias[e] = w.expertBias(b2, e, c.hiddenSize(), false);
            }
            layers[i] = new Layer(w.vector(l.attnNorm()), w.matrix(l.wq()), w.vector(l.bq()), w.matrix(l.wk()), w.vector(l.bk()),
                    w.matrix(l.wv()), w.vector(l.bv()), w.vector(l.sinks()), w.matrix(l.wo()), w.vector(l.bo()),
                    w.vector(l.mlpNorm()), w.matrix(l.router()), w.vector(l.routerBias()), mlp1, mlp1Bias, mlp2, mlp2Bias);
        }
        NDArray embedding = w.matrix(layout.embedding());
        NDArray norm = w.vector(layout.finalNorm());
        NDArray unembedding = w.matrix(layout.unembedding());
        Rope rope = Rope.yarn(c.headDim(), c.ropeTheta(), c.ropeScalingFactor(), c.initialContextLength(), c.ropeNtkBeta(),
                c.ropeNtkAlpha());
        return new TorchGptOss(info, c, rope, embedding, layers, norm, unembedding);
    }

    @Override
    public NDArray forward(Step step, TorchKvCache kv, BlockObserver observer) {
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int hd = config.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        NDArray x = embedding.get(new NDIndex("{}", step.tokenIds));
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            NDArray h = TorchOps.rmsNorm(x, layer.attnNorm(), config.eps());
            NDArray q = TorchOps.rope(step, rope, linear(h, layer.wq(), layer.bq()), heads, hd);
            NDArray k = TorchOps.rope(step, rope, linear(h, layer.wk(), layer.bk()), kvHeads, hd);
            kv.write(l, step.slots, k, linear(h, layer.wv(), layer.bv()));
            int window = config.isSliding(l) ? config.slidingWindow() : 0;
            NDArray att = TorchOps.attention(step, kv, l, q, heads, kvHeads, hd, scale, window, layer.sinks());
            x = x.add(linear(att, layer.wo(), layer.bo()));
            x = x.add(mixtureOfExperts(step, layer, TorchOps.rmsNorm(x, layer.mlpNorm(), config.eps())));
            observer.afterBlock(l, x);
        }
        return x;
    }

    /**
     * Σ over each row's top-k experts of softmax(top-k router logits) · (W2 · swiglu(W1 · t + b1) + b2).
     * Rows are grouped by expert (one pair of matrix products per expert in use), then each
     * contribution goes back to its (row, choice) and the k choices are summed.
     */
    private NDArray mixtureOfExperts(Step step, Layer layer, NDArray t) {
        int k = config.expertsPerToken();
        int rows = step.numRows;
        NDList top = linear(t, layer.router(), layer.routerBias()).topK(k, 1, true, true);
        NDArray weights = top.get(0).softmax(1).reshape((long) rows * k, 1);
        long[] chosen = top.get(1).toLongArray(); // [rows·k], row-major: (row, choice)
        List<List<Integer>> byExpert = new ArrayList<>();
        for (int e = 0; e < config.numExperts(); e++) byExpert.add(new ArrayList<>());
        for (int i = 0; i < chosen.length; i++) byExpert.get((int) chosen[i]).add(i);
        NDList parts = new NDList();
        long[] order = new long[chosen.length]; // order[(row, choice)] = its row in the concatenated parts
        int next = 0;
        float limit = config.swigluLimit();
        int inter = config.intermediateSize();
        for (int e = 0; e < byExpert.size(); e++) {
            List<Integer> entries = byExpert.get(e);
            if (entries.isEmpty()) continue;
            long[] tokenRows = new long[entries.size()];
            for (int j = 0; j < tokenRows.length; j++) {
                tokenRows[j] = entries.get(j) / k;
                order[entries.get(j)] = next++;
            }
            NDArray up = linear(t.get(new NDIndex("{}", step.manager.create(tokenRows))), layer.mlp1()[e], layer.mlp1Bias()[e]);
            NDArray gate = up.get(new NDIndex(":, 0:" + inter)).minimum(limit);
            NDArray lin = up.get(new NDIndex(":, " + inter + ":")).clip(-limit, limit);
            NDArray act = gate.mul(Activation.sigmoid(gate.mul(1.702f))).mul(lin.add(1f));
            parts.add(linear(act, layer.mlp2()[e], layer.mlp2Bias()[e]));
        }
        NDArray all = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
        NDArray perChoice = all.get(new NDIndex("{}", step.manager.create(order))).mul(weights);
        return perChoice.reshape(rows, k, config.hiddenSize()).sum(new int[] {1});
    }

    @Override
    public NDArray logits(NDArray residual) {
        return linear(TorchOps.rmsNorm(residual, finalNorm, config.eps()), unembedding, null);
    }
}
