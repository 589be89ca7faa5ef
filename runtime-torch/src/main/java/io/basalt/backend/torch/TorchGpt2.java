package io.basalt.backend.torch;

import static io.basalt.backend.torch.TorchOps.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.basalt.model.layout.Gpt2Config;
import io.basalt.model.layout.Gpt2Layout;
import io.basalt.model.layout.ModelInfo;

/** GPT-2: pre-LayerNorm, learned positions, tanh GELU, head tied to the token embeddings. */
record TorchGpt2(ModelInfo info, Gpt2Config config, NDArray wte, NDArray wpe, Block[] blocks, NDArray lnfWeight,
                 NDArray lnfBias) implements TorchModel {

    record Block(NDArray ln1Weight, NDArray ln1Bias, NDArray qkv, NDArray qkvBias, NDArray proj, NDArray projBias,
                 NDArray ln2Weight, NDArray ln2Bias, NDArray fc, NDArray fcBias, NDArray fcProj, NDArray fcProjBias) { }

    static TorchGpt2 load(Gpt2Layout layout, TorchWeights w, ModelInfo info) {
        layout.checkHead(w.checkpoint());
        Block[] blocks = new Block[layout.config().numLayers()];
        for (int i = 0; i < blocks.length; i++) {
            Gpt2Layout.Block b = layout.block(i);
            blocks[i] = new Block(w.vector(b.ln1Weight()), w.vector(b.ln1Bias()), w.matrix(b.qkv()), w.vector(b.qkvBias()),
                    w.matrix(b.proj()), w.vector(b.projBias()), w.vector(b.ln2Weight()), w.vector(b.ln2Bias()),
                    w.matrix(b.fc()), w.vector(b.fcBias()), w.matrix(b.fcProj()), w.vector(b.fcProjBias()));
        }
        NDArray wte = w.matrix(layout.wte());
        NDArray wpe = w.matrix(layout.wpe());
        NDArray lnfW = w.vector(layout.lnfWeight());
        NDArray lnfB = w.vector(layout.lnfBias());
        Gpt2Config c = layout.config();
        return new TorchGpt2(info, c, wte, wpe, blocks, lnfW, lnfB);
    }

    @Override
    public NDArray forward(Step step, TorchKvCache kv, BlockObserver observer) {
        int c = config.hiddenSize();
        int heads = config.numHeads();
        int hd = config.headDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float eps = config.eps();
        NDArray x = wte.get(new NDIndex("{}", step.tokenIds)).add(wpe.get(new NDIndex("{}", step.positionIds)));
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            NDArray qkv = linear(TorchOps.layerNorm(x, b.ln1Weight(), b.ln1Bias(), eps), b.qkv(), b.qkvBias());
            NDArray q = qkv.get(new NDIndex(":, 0:" + c));
            kv.write(l, step.slots, qkv.get(new NDIndex(":, " + c + ":" + 2 * c)), qkv.get(new NDIndex(":, " + 2 * c + ":")));
            NDArray att = TorchOps.attention(step, kv, l, q, heads, heads, hd, scale, 0, null);
            x = x.add(linear(att, b.proj(), b.projBias()));
            NDArray h = TorchOps.geluTanh(linear(TorchOps.layerNorm(x, b.ln2Weight(), b.ln2Bias(), eps), b.fc(), b.fcBias()));
            x = x.add(linear(h, b.fcProj(), b.fcProjBias()));
            observer.afterBlock(l, x);
        }
        return x;
    }

    @Override
    public NDArray logits(NDArray residual) {
        return linear(TorchOps.layerNorm(residual, lnfWeight, lnfBias, config.eps()), wte, null);
    }
}
