package io.basalt.backend.cpu.model;

import io.basalt.backend.cpu.kernels.Mxfp4Experts;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.GptOssConfig;
import io.basalt.model.layout.GptOssLayout;
import io.basalt.model.layout.LoadOptions;

/** gpt-oss weights bound to the CPU kernels, from either checkpoint layout ({@link GptOssLayout}). */
record GptOssWeights(WeightMatrix embedding, Layer[] layers, float[] finalNorm, WeightMatrix unembedding) {

    record Layer(
            float[] attnNorm,                                   // [dim]
            WeightMatrix wq, float[] bq,                        // [heads·hd, dim], [heads·hd]
            WeightMatrix wk, float[] bk,                        // [kv·hd, dim], [kv·hd]
            WeightMatrix wv, float[] bv,                        // [kv·hd, dim], [kv·hd]
            float[] sinks,                                      // [heads]
            WeightMatrix wo, float[] bo,                        // [dim, heads·hd], [dim]
            float[] mlpNorm,                                    // [dim]
            WeightMatrix router, float[] routerBias,            // [E, dim], [E]
            Mxfp4Experts mlp1, float[] mlp1Bias,                // E × [2·inter, dim] (gate/linear interleaved), [E·2·inter]
            Mxfp4Experts mlp2, float[] mlp2Bias) { }            // E × [dim, inter], [E·dim]

    static GptOssWeights load(Checkpoint checkpoint, GptOssConfig c, LoadOptions options) {
        GptOssLayout layout = GptOssLayout.of(checkpoint, c);
        Weights w = new Weights(checkpoint, options);
        Layer[] layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            GptOssLayout.Layer l = layout.layers().get(i);
            layers[i] = new Layer(w.vector(l.attnNorm()), w.matrix(l.wq()), w.vector(l.bq()), w.matrix(l.wk()),
                    w.vector(l.bk()), w.matrix(l.wv()), w.vector(l.bv()), w.vector(l.sinks()), w.matrix(l.wo()),
                    w.vector(l.bo()), w.vector(l.mlpNorm()), w.matrix(l.router()), w.vector(l.routerBias()),
                    experts(checkpoint, l.mlp1()), w.vector(l.mlp1Bias()), experts(checkpoint, l.mlp2()), w.vector(l.mlp2Bias()));
        }
        GptOssWeights weights = new GptOssWeights(w.matrix(layout.embedding()), layers, w.vector(layout.finalNorm()),
                w.classifier(layout.unembedding()));
        w.finish();
        return weights;
    }

    static Mxfp4Experts experts(Checkpoint checkpoint, GptOssLayout.Experts x) {
        TensorInfo[] t = x.tensors(checkpoint);
        return new Mxfp4Experts(t[0].data(), t[1].data(), (int) x.numExperts(), (int) x.rows(), (int) x.cols());
    }
}
