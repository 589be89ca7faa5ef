package io.basalt.model.arch.gptoss;

import io.basalt.backend.cpu.kernels.Mxfp4Experts;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import io.basalt.model.arch.LoadOptions;
import io.basalt.model.arch.Weights;

/**
 * gpt-oss weights from either layout: Hugging Face (model.layers.N.self_attn.q_proj …,
 * mlp.experts.gate_up_proj_blocks …) or openai/gpt-oss "original/" (block.N.attn.qkv …,
 * mlp.mlp1_weight.blocks …), where q, k and v are row slices of one fused qkv matrix.
 */
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
        Weights w = new Weights(checkpoint, options);
        boolean original = w.has("embedding.weight");
        long d = c.hiddenSize();
        long qDim = (long) c.numHeads() * c.headDim();
        long kv = c.kvDim();
        long e = c.numExperts();
        long inter = c.intermediateSize();
        Layer[] layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            if (original) {
                String b = "block." + i + ".";
                long fused = qDim + 2 * kv;
                String qkv = b + "attn.qkv.weight";
                String qkvBias = b + "attn.qkv.bias";
                layers[i] = new Layer(w.vector(b + "attn.norm.scale", d),
                        w.matrixRows(qkv, fused, d, 0, qDim), w.vectorSlice(qkvBias, new long[] {fused}, 0, (int) qDim),
                        w.matrixRows(qkv, fused, d, qDim, kv), w.vectorSlice(qkvBias, new long[] {fused}, qDim, (int) kv),
                        w.matrixRows(qkv, fused, d, qDim + kv, kv), w.vectorSlice(qkvBias, new long[] {fused}, qDim + kv, (int) kv),
                        w.vector(b + "attn.sinks", c.numHeads()),
                        w.matrix(b + "attn.out.weight", d, qDim), w.vector(b + "attn.out.bias", d),
                        w.vector(b + "mlp.norm.scale", d),
                        w.matrixUnquantized(b + "mlp.gate.weight", e, d), w.vector(b + "mlp.gate.bias", e),
                        experts(checkpoint, b + "mlp.mlp1_weight.blocks", b + "mlp.mlp1_weight.scales", e, 2 * inter, d),
                        w.vector(b + "mlp.mlp1_bias", e, 2 * inter),
                        experts(checkpoint, b + "mlp.mlp2_weight.blocks", b + "mlp.mlp2_weight.scales", e, d, inter),
                        w.vector(b + "mlp.mlp2_bias", e, d));
            } else {
                String b = "model.layers." + i + ".";
                String a = b + "self_attn.";
                String x = b + "mlp.experts.";
                layers[i] = new Layer(w.vector(b + "input_layernorm.weight", d),
                        w.matrix(a + "q_proj.weight", qDim, d), w.vector(a + "q_proj.bias", qDim),
                        w.matrix(a + "k_proj.weight", kv, d), w.vector(a + "k_proj.bias", kv),
                        w.matrix(a + "v_proj.weight", kv, d), w.vector(a + "v_proj.bias", kv),
                        w.vector(a + "sinks", c.numHeads()),
                        w.matrix(a + "o_proj.weight", d, qDim), w.vector(a + "o_proj.bias", d),
                        w.vector(b + "post_attention_layernorm.weight", d),
                        w.matrixUnquantized(b + "mlp.router.weight", e, d), w.vector(b + "mlp.router.bias", e),
                        experts(checkpoint, x + "gate_up_proj_blocks", x + "gate_up_proj_scales", e, 2 * inter, d),
                        w.vector(x + "gate_up_proj_bias", e, 2 * inter),
                        experts(checkpoint, x + "down_proj_blocks", x + "down_proj_scales", e, d, inter),
                        w.vector(x + "down_proj_bias", e, d));
            }
        }
        long vocab = c.vocabSize();
        GptOssWeights weights = original
                ? new GptOssWeights(w.matrix("embedding.weight", vocab, d), layers, w.vector("norm.scale", d),
                        w.classifier("unembedding.weight", vocab, d))
                : new GptOssWeights(w.matrix("model.embed_tokens.weight", vocab, d), layers, w.vector("model.norm.weight", d),
                        w.classifier("lm_head.weight", vocab, d));
        w.finish();
        return weights;
    }

    /** MXFP4 experts: blocks [E, rows, cols/32, 16] and scales [E, rows, cols/32], both U8. */
    static Mxfp4Experts experts(Checkpoint checkpoint, String blocksName, String scalesName, long e, long rows, long cols) {
        TensorInfo blocks = checkpoint.tensor(blocksName, e, rows, cols / 32, 16);
        TensorInfo scales = checkpoint.tensor(scalesName, e, rows, cols / 32);
        for (TensorInfo t : new TensorInfo[] {blocks, scales}) {
            if (t.dtype() != DType.U8) {
                throw new ModelFormatException(checkpoint.path(), "tensor '" + t.name() + "' is " + t.dtype() + "; MXFP4 needs U8");
            }
        }
        return new Mxfp4Experts(blocks.data(), scales.data(), (int) e, (int) rows, (int) cols);
    }
}
