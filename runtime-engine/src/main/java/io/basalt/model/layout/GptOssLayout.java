package io.basalt.model.layout;

import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import java.util.List;

/**
 * gpt-oss tensor names, independent of any backend, for either layout: Hugging Face
 * (model.layers.N.self_attn.q_proj …, mlp.experts.gate_up_proj_blocks …) or openai/gpt-oss
 * "original/" (block.N.attn.qkv …, mlp.mlp1_weight.blocks …), where q, k and v are row slices of one
 * fused qkv matrix.
 */
public record GptOssLayout(GptOssConfig config, boolean original, List<Layer> layers, MatrixRef embedding,
                           VectorRef finalNorm, MatrixRef unembedding) {

    public record Layer(
            VectorRef attnNorm,                                 // [dim]
            MatrixRef wq, VectorRef bq,                         // [heads·hd, dim], [heads·hd]
            MatrixRef wk, VectorRef bk,                         // [kv·hd, dim], [kv·hd]
            MatrixRef wv, VectorRef bv,                         // [kv·hd, dim], [kv·hd]
            VectorRef sinks,                                    // [heads]
            MatrixRef wo, VectorRef bo,                         // [dim, heads·hd], [dim]
            VectorRef mlpNorm,                                  // [dim]
            MatrixRef router, VectorRef routerBias,             // [E, dim] (never quantized), [E]
            Experts mlp1, VectorRef mlp1Bias,                   // E × [2·inter, dim] (gate/linear interleaved), [E·2·inter]
            Experts mlp2, VectorRef mlp2Bias) { }               // E × [dim, inter], [E·dim]

    /** MXFP4 experts: blocks [E, rows, cols/32, 16] and scales [E, rows, cols/32], both U8. */
    public record Experts(String blocks, String scales, long numExperts, long rows, long cols) {
        /** The blocks and scales tensors, shapes and types checked. */
        public TensorInfo[] tensors(Checkpoint checkpoint) {
            TensorInfo[] t = {checkpoint.tensor(blocks, numExperts, rows, cols / 32, 16),
                              checkpoint.tensor(scales, numExperts, rows, cols / 32)};
            for (TensorInfo x : t) {
                if (x.dtype() != DType.U8) {
                    throw new ModelFormatException(checkpoint.path(), "tensor '" + x.name() + "' is " + x.dtype() + "; MXFP4 needs U8");
                }
            }
            return t;
        }
    }

    /** Grouped-query attention on every layer (sliding or not, the same shape). */
    public KvGeometry kvGeometry() { return new KvGeometry(config.numLayers(), config.numKvHeads(), config.headDim()); }

    public static GptOssLayout of(Checkpoint checkpoint) { return of(checkpoint, GptOssConfig.from(checkpoint)); }

    public static GptOssLayout of(Checkpoint checkpoint, GptOssConfig c) {
        boolean original = checkpoint.has("embedding.weight");
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
                long[] biasShape = {fused};
                layers[i] = new Layer(VectorRef.of(b + "attn.norm.scale", d),
                        MatrixRef.rowsOf(qkv, fused, d, 0, qDim), VectorRef.slice(qkvBias, biasShape, 0, (int) qDim),
                        MatrixRef.rowsOf(qkv, fused, d, qDim, kv), VectorRef.slice(qkvBias, biasShape, qDim, (int) kv),
                        MatrixRef.rowsOf(qkv, fused, d, qDim + kv, kv), VectorRef.slice(qkvBias, biasShape, qDim + kv, (int) kv),
                        VectorRef.of(b + "attn.sinks", c.numHeads()),
                        MatrixRef.linear(b + "attn.out.weight", d, qDim), VectorRef.of(b + "attn.out.bias", d),
                        VectorRef.of(b + "mlp.norm.scale", d),
                        MatrixRef.linear(b + "mlp.gate.weight", e, d).unquantized(), VectorRef.of(b + "mlp.gate.bias", e),
                        new Experts(b + "mlp.mlp1_weight.blocks", b + "mlp.mlp1_weight.scales", e, 2 * inter, d),
                        VectorRef.of(b + "mlp.mlp1_bias", e, 2 * inter),
                        new Experts(b + "mlp.mlp2_weight.blocks", b + "mlp.mlp2_weight.scales", e, d, inter),
                        VectorRef.of(b + "mlp.mlp2_bias", e, d));
            } else {
                String b = "model.layers." + i + ".";
                String a = b + "self_attn.";
                String x = b + "mlp.experts.";
                layers[i] = new Layer(VectorRef.of(b + "input_layernorm.weight", d),
                        MatrixRef.linear(a + "q_proj.weight", qDim, d), VectorRef.of(a + "q_proj.bias", qDim),
                        MatrixRef.linear(a + "k_proj.weight", kv, d), VectorRef.of(a + "k_proj.bias", kv),
                        MatrixRef.linear(a + "v_proj.weight", kv, d), VectorRef.of(a + "v_proj.bias", kv),
                        VectorRef.of(a + "sinks", c.numHeads()),
                        MatrixRef.linear(a + "o_proj.weight", d, qDim), VectorRef.of(a + "o_proj.bias", d),
                        VectorRef.of(b + "post_attention_layernorm.weight", d),
                        MatrixRef.linear(b + "mlp.router.weight", e, d).unquantized(), VectorRef.of(b + "mlp.router.bias", e),
                        new Experts(x + "gate_up_proj_blocks", x + "gate_up_proj_scales", e, 2 * inter, d),
                        VectorRef.of(x + "gate_up_proj_bias", e, 2 * inter),
                        new Experts(x + "down_proj_blocks", x + "down_proj_scales", e, d, inter),
                        VectorRef.of(x + "down_proj_bias", e, d));
            }
        }
        long vocab = c.vocabSize();
        return original
                ? new GptOssLayout(c, true, List.of(layers), MatrixRef.linear("embedding.weight", vocab, d),
                        VectorRef.of("norm.scale", d), MatrixRef.linear("unembedding.weight", vocab, d))
                : new GptOssLayout(c, false, List.of(layers), MatrixRef.linear("model.embed_tokens.weight", vocab, d),
                        VectorRef.of("model.norm.weight", d), MatrixRef.linear("lm_head.weight", vocab, d));
    }
}
