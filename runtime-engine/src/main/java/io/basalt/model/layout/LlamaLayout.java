package io.basalt.model.layout;

import io.basalt.model.Checkpoint;
import io.basalt.model.Format;
import java.util.List;
import java.util.Map;

/**
 * Llama's configuration, tensor names and RoPE, independent of any backend. GGUF and llama2.c
 * checkpoints use GGUF names and Meta's interleaved RoPE; Hugging Face checkpoints use HF names
 * with q/k rows permuted for half-split RoPE (so the HF layout rotates HALF_SPLIT).
 *
 * @param classifier the output head, or null when it is tied to the embedding
 */
public record LlamaLayout(LlamaConfig config, List<Layer> layers, MatrixRef embedding, MatrixRef classifier,
                          VectorRef finalNorm, Rope rope) {

    /** One layer's tensors: attention (q, k, v, o) and the SwiGLU FFN (gate = w1, up = w3, down = w2). */
    public record Layer(VectorRef attnNorm, MatrixRef wq, MatrixRef wk, MatrixRef wv, MatrixRef wo, VectorRef ffnNorm,
                        MatrixRef gate, MatrixRef up, MatrixRef down) { }

    /** Grouped-query attention: numKvHeads keys and values per position. */
    public KvGeometry kvGeometry() { return new KvGeometry(config.numLayers(), config.numKvHeads(), config.headDim()); }

    /** Embedding (and a separate head unless tied), per layer the norms and the seven projections, the final norm. */
    public long numParameters() {
        long d = config.hiddenSize();
        long perLayer = 2 * d + d * config.numHeads() * config.headDim() * 2 + 2 * d * config.kvDim()
                + 3 * d * config.intermediateSize();
        return (long) config.vocabSize() * d * (classifier == null ? 1 : 2) + d + perLayer * config.numLayers();
    }

    public static LlamaLayout of(Checkpoint checkpoint) {
        return checkpoint.format() == Format.SAFETENSORS ? hf(checkpoint) : gguf(checkpoint);
    }

    /** GGUF names and keys; the llama2.c reader presents its checkpoints the same way. */
    private static LlamaLayout gguf(Checkpoint checkpoint) {
        MetadataReader cfg = new MetadataReader(checkpoint);
        int dim = cfg.positiveInt("llama.embedding_length");
        int heads = cfg.positiveInt("llama.attention.head_count");
        int vocab = cfg.has("llama.vocab_size") ? cfg.positiveInt("llama.vocab_size")
                : Math.toIntExact(checkpoint.tensor("token_embd.weight").dim(0));
        LlamaConfig config = new LlamaConfig(cfg.positiveInt("llama.block_count"), dim,
                cfg.positiveInt("llama.feed_forward_length"), heads,
                cfg.positiveInt("llama.attention.head_count_kv", heads), vocab,
                cfg.positiveInt("llama.context_length"),
                (float) cfg.real("llama.attention.layer_norm_rms_epsilon", 1e-5),
                (float) cfg.real("llama.rope.freq_base", 10000.0),
                cfg.positiveInt("llama.rope.dimension_count", dim / heads));
        validate(cfg, config);
        Layer[] layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String b = "blk." + i + ".";
            layers[i] = layer(config, b + "attn_norm.weight", b + "attn_q.weight", b + "attn_k.weight", b + "attn_v.weight",
                    b + "attn_output.weight", b + "ffn_norm.weight", b + "ffn_gate.weight", b + "ffn_up.weight",
                    b + "ffn_down.weight");
        }
        Rope rope = Rope.standard(Rope.Style.INTERLEAVED, config.rotaryDims(), config.ropeTheta());
        if (checkpoint.has("rope_freqs.weight")) { // Llama 3.1+ GGUF: the frequency scaling is stored as per-pair factors
            rope = rope.withFrequencyFactors(VectorRef.of("rope_freqs.weight", config.rotaryDims() / 2).read(checkpoint));
        }
        return new LlamaLayout(config, List.of(layers), MatrixRef.linear("token_embd.weight", vocab, dim),
                checkpoint.has("output.weight") ? MatrixRef.linear("output.weight", vocab, dim) : null,
                VectorRef.of("output_norm.weight", dim), rope);
    }

    private static LlamaLayout hf(Checkpoint checkpoint) {
        MetadataReader cfg = new MetadataReader(checkpoint);
        int dim = cfg.positiveInt("hidden_size");
        int heads = cfg.positiveInt("num_attention_heads");
        LlamaConfig config = new LlamaConfig(cfg.positiveInt("num_hidden_layers"), dim,
                cfg.positiveInt("intermediate_size"), heads, cfg.positiveInt("num_key_value_heads", heads),
                cfg.positiveInt("vocab_size"), cfg.positiveInt("max_position_embeddings", 2048),
                (float) cfg.real("rms_norm_eps", 1e-6), (float) cfg.real("rope_theta", 10000.0), dim / heads);
        validate(cfg, config);
        Layer[] layers = new Layer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String b = "model.layers." + i + ".";
            String a = b + "self_attn.";
            layers[i] = layer(config, b + "input_layernorm.weight", a + "q_proj.weight", a + "k_proj.weight",
                    a + "v_proj.weight", a + "o_proj.weight", b + "post_attention_layernorm.weight",
                    b + "mlp.gate_proj.weight", b + "mlp.up_proj.weight", b + "mlp.down_proj.weight");
        }
        int vocab = config.vocabSize();
        return new LlamaLayout(config, List.of(layers), MatrixRef.linear("model.embed_tokens.weight", vocab, dim),
                checkpoint.has("lm_head.weight") ? MatrixRef.linear("lm_head.weight", vocab, dim) : null,
                VectorRef.of("model.norm.weight", dim), hfRope(cfg, config));
    }

    private static Layer layer(LlamaConfig c, String attnNorm, String q, String k, String v, String o,
                               String ffnNorm, String gate, String up, String down) {
        long d = c.hiddenSize();
        long qDim = (long) c.numHeads() * c.headDim();
        long ff = c.intermediateSize();
        return new Layer(VectorRef.of(attnNorm, d), MatrixRef.linear(q, qDim, d), MatrixRef.linear(k, c.kvDim(), d),
                MatrixRef.linear(v, c.kvDim(), d), MatrixRef.linear(o, d, qDim), VectorRef.of(ffnNorm, d),
                MatrixRef.linear(gate, ff, d), MatrixRef.linear(up, ff, d), MatrixRef.linear(down, d, ff));
    }

    /** Half-split RoPE (HF permuted the q/k rows for it), with Llama 3's scaling when configured. */
    private static Rope hfRope(MetadataReader cfg, LlamaConfig c) {
        if (!cfg.has("rope_scaling")) return Rope.standard(Rope.Style.HALF_SPLIT, c.headDim(), c.ropeTheta());
        Map<String, Object> scaling = cfg.map("rope_scaling");
        Object type = scaling.getOrDefault("rope_type", scaling.get("type"));
        if (!"llama3".equals(type)) {
            // A silently ignored scaling would give plausible but wrong text past the original context.
            throw cfg.bad("rope_scaling", "type '" + type + "' is not supported (supported: llama3)");
        }
        return Rope.llama3(Rope.Style.HALF_SPLIT, c.headDim(), c.ropeTheta(), number(cfg, scaling, "factor"),
                number(cfg, scaling, "low_freq_factor"), number(cfg, scaling, "high_freq_factor"),
                number(cfg, scaling, "original_max_position_embeddings"));
    }

    private static double number(MetadataReader cfg, Map<String, Object> map, String key) {
        if (map.get(key) instanceof Number n) return n.doubleValue();
        throw cfg.bad("rope_scaling", "needs a number for '" + key + "'");
    }

    private static void validate(MetadataReader cfg, LlamaConfig c) {
        if (c.hiddenSize() % c.numHeads() != 0) throw cfg.bad("head count", "must divide the embedding size " + c.hiddenSize());
        if (c.numHeads() % c.numKvHeads() != 0) throw cfg.bad("kv head count", "must divide the head count " + c.numHeads());
        if (c.rotaryDims() > c.headDim() || c.rotaryDims() % 2 != 0) {
            throw cfg.bad("rope dimension count", "must be even and at most the head size " + c.headDim());
        }
    }
}
