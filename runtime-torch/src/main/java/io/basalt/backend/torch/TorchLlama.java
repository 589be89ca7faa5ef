package io.basalt.backend.torch;

import static io.basalt.backend.torch.TorchOps.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.basalt.model.layout.LlamaConfig;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.ModelInfo;

/** Llama: RMSNorm, RoPE (interleaved or half-split, per the checkpoint layout), GQA, SwiGLU, no biases. */
record TorchLlama(ModelInfo info, LlamaLayout layout, NDArray embedding, Layer[] layers, NDArray finalNorm,
                  NDArray classifier) implements TorchModel {

    record Layer(NDArray attnNorm, NDArray wq, NDArray wk, NDArray wv, NDArray wo, NDArray ffnNorm, NDArray gate, NDArray up,
                 NDArray down) { }

    static TorchLlama load(LlamaLayout layout, TorchWeights w, ModelInfo info) {
        Layer[] layers = new Layer[layout.config().numLayers()];
        for (int i = 0; i < layers.length; i++) {
            LlamaLayout.Layer l = layout.layers().get(i);
            layers[i] = new Layer(w.vector(l.attnNorm()), w.matrix(l.wq()), w.matrix(l.wk()), w.matrix(l.wv()), w.matrix(l.wo()),
                    w.vector(l.ffnNorm()), w.matrix(l.gate()), w.matrix(l.up()), w.matrix(l.down()));
        }
        NDArray embedding = w.matrix(layout.embedding());
        NDArray classifier = layout.classifier() != null ? w.matrix(layout.classifier()) : embedding;
        NDArray norm = w.vector(layout.finalNorm());
        LlamaConfig c = layout.config();
        return new TorchLlama(info, layout, embedding, layers, norm, classifier);
    }

    @Override
    public NDArray forward(Step step, TorchKvCache kv, BlockObserver observer) {
        LlamaConfig c = layout.config();
        int hd = c.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        NDArray x = embedding.get(new NDIndex("{}", step.tokenIds));
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            NDArray h = TorchOps.rmsNorm(x, layer.attnNorm(), c.eps());
            NDArray q = TorchOps.rope(step, layout.rope(), linear(h, layer.wq(), null), c.numHeads(), hd);
            NDArray k = TorchOps.rope(step, layout.rope(), linear(h, layer.wk(), null), c.numKvHeads(), hd);
            kv.write(l, step.slots, k, linear(h, layer.wv(), null));
            NDArray att = TorchOps.attention(step, kv, l, q, c.numHeads(), c.numKvHeads(), hd, scale, 0, null);
            x = x.add(linear(att, layer.wo(), null));
            h = TorchOps.rmsNorm(x, layer.ffnNorm(), c.eps());
            x = x.add(linear(TorchOps.siluMul(linear(h, layer.gate(), null), linear(h, layer.up(), null)), layer.down(), null));
            observer.afterBlock(l, x);
        }
        return x;
    }

    @Override
    public NDArray logits(NDArray residual) {
        return linear(TorchOps.rmsNorm(residual, finalNorm, layout.config().eps()), classifier, null);
    }
}
