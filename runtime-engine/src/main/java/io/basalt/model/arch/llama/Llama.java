package io.basalt.model.arch.llama;

import io.basalt.backend.cpu.kernels.Parallel;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.Format;
import io.basalt.model.arch.BatchRows;
import io.basalt.model.arch.Config;
import io.basalt.model.arch.ForwardMath;
import io.basalt.model.arch.Model;
import io.basalt.model.arch.ModelInfo;
import io.basalt.model.arch.Rope;
import io.basalt.model.arch.SequenceChunk;
import io.basalt.model.arch.LoadOptions;
import io.basalt.model.arch.Weights;
import java.util.List;

/**
 * Llama (RMSNorm, RoPE, grouped-query attention, SwiGLU FFN, no biases); MODELS.md §(c).
 * GGUF and llama2.c checkpoints (GGUF tensor names, Meta's interleaved RoPE layout) and Hugging
 * Face checkpoints (HF names; q/k rows permuted for half-split RoPE, so HF layout uses HALF_SPLIT).
 */
public final class Llama implements Model {
    public record LlamaConfig(int numLayers, int hiddenSize, int intermediateSize, int numHeads, int numKvHeads,
                              int vocabSize, int maxPositions, float eps, float ropeTheta, int rotaryDims) {
        int headDim() { return hiddenSize / numHeads; }

        int kvDim() { return numKvHeads * headDim(); }
    }

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
        long d = config.hiddenSize();
        long perLayer = 2 * d + d * config.numHeads() * config.headDim() * 2 + 2 * d * config.kvDim()
                + 3 * d * config.intermediateSize();
        long params = (long) config.vocabSize() * d * (classifier == embedding ? 1 : 2) + d + perLayer * config.numLayers();
        this.info = new ModelInfo(ModelInfo.Architecture.LLAMA, checkpoint.path(), checkpoint.format(), config.vocabSize(),
                config.maxPositions(), config.numLayers(), config.hiddenSize(), params, checkpoint.metadata());
    }

    public static Llama load(Checkpoint checkpoint) { return load(checkpoint, LoadOptions.DEFAULT); }

    public static Llama load(Checkpoint checkpoint, LoadOptions options) {
        Weights w = new Weights(checkpoint, options);
        Llama model = checkpoint.format() == Format.SAFETENSORS ? loadHf(checkpoint, w) : loadGguf(checkpoint, w);
        w.finish();
        return model;
    }

    /** GGUF names and keys; the llama2.c reader presents its checkpoints the same way. */
    private static Llama loadGguf(Checkpoint checkpoint, Weights w) {
        Config cfg = new Config(checkpoint);
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
        long d = dim;
        long qDim = (long) heads * config.headDim();
        for (int i = 0; i < layers.length; i++) {
            String b = "blk." + i + ".";
            layers[i] = new Layer(w.vector(b + "attn_norm.weight", d),
                    w.matrix(b + "attn_q.weight", qDim, d), w.matrix(b + "attn_k.weight", config.kvDim(), d),
                    w.matrix(b + "attn_v.weight", config.kvDim(), d), w.matrix(b + "attn_output.weight", d, qDim),
                    w.vector(b + "ffn_norm.weight", d),
                    w.matrix(b + "ffn_gate.weight", config.intermediateSize(), d),
                    w.matrix(b + "ffn_up.weight", config.intermediateSize(), d),
                    w.matrix(b + "ffn_down.weight", d, config.intermediateSize()));
        }
        boolean tied = !w.has("output.weight");
        WeightMatrix embedding = tied ? w.classifier("token_embd.weight", vocab, d) : w.matrix("token_embd.weight", vocab, d);
        WeightMatrix classifier = tied ? embedding : w.classifier("output.weight", vocab, d);
        Rope rope = Rope.standard(Rope.Style.INTERLEAVED, config.rotaryDims(), config.ropeTheta());
        if (w.has("rope_freqs.weight")) { // Llama 3.1+ GGUF: the frequency scaling is stored as per-pair factors
            rope = rope.withFrequencyFactors(w.vector("rope_freqs.weight", config.rotaryDims() / 2));
        }
        return new Llama(config, checkpoint, embedding, layers, w.vector("output_norm.weight", d), classifier, rope);
    }

    private static Llama loadHf(Checkpoint checkpoint, Weights w) {
        Config cfg = new Config(checkpoint);
        int dim = cfg.positiveInt("hidden_size");
        int heads = cfg.positiveInt("num_attention_heads");
        LlamaConfig config = new LlamaConfig(cfg.positiveInt("num_hidden_layers"), dim, cfg.positiveInt("intermediate_size"),
                heads, cfg.positiveInt("num_key_value_heads", heads), cfg.positiveInt("vocab_size"),
                cfg.positiveInt("max_position_embeddings", 2048), (float) cfg.real("rms_norm_eps", 1e-6),
                (float) cfg.real("rope_theta", 10000.0), dim / heads);
        validate(cfg, config);
        Layer[] layers = new Layer[config.numLayers()];
        long d = dim;
        long qDim = (long) heads * config.headDim();
        long ff = config.intermediateSize();
        for (int i = 0; i < layers.length; i++) {
            String b = "model.layers." + i + ".";
            layers[i] = new Layer(w.vector(b + "input_layernorm.weight", d),
                    w.matrix(b + "self_attn.q_proj.weight", qDim, d), w.matrix(b + "self_attn.k_proj.weight", config.kvDim(), d),
                    w.matrix(b + "self_attn.v_proj.weight", config.kvDim(), d), w.matrix(b + "self_attn.o_proj.weight", d, qDim),
                    w.vector(b + "post_attention_layernorm.weight", d),
                    w.matrix(b + "mlp.gate_proj.weight", ff, d), w.matrix(b + "mlp.up_proj.weight", ff, d),
                    w.matrix(b + "mlp.down_proj.weight", d, ff));
        }
        boolean tied = !w.has("lm_head.weight");
        WeightMatrix embedding = tied ? w.classifier("model.embed_tokens.weight", config.vocabSize(), d)
                : w.matrix("model.embed_tokens.weight", config.vocabSize(), d);
        WeightMatrix classifier = tied ? embedding : w.classifier("lm_head.weight", config.vocabSize(), d);
        return new Llama(config, checkpoint, embedding, layers, w.vector("model.norm.weight", d), classifier, hfRope(cfg, config));
    }

    /** Half-split RoPE (HF permuted the q/k rows for it), with Llama 3's scaling when configured. */
    private static Rope hfRope(Config cfg, LlamaConfig c) {
        if (!cfg.has("rope_scaling")) return Rope.standard(Rope.Style.HALF_SPLIT, c.headDim(), c.ropeTheta());
        java.util.Map<String, Object> scaling = cfg.map("rope_scaling");
        Object type = scaling.getOrDefault("rope_type", scaling.get("type"));
        if (!"llama3".equals(type)) {
            // A silently ignored scaling would give plausible but wrong text past the original context.
            throw cfg.bad("rope_scaling", "type '" + type + "' is not supported (supported: llama3)");
        }
        return Rope.llama3(Rope.Style.HALF_SPLIT, c.headDim(), c.ropeTheta(), number(cfg, scaling, "factor"),
                number(cfg, scaling, "low_freq_factor"), number(cfg, scaling, "high_freq_factor"),
                number(cfg, scaling, "original_max_position_embeddings"));
    }

    private static double number(Config cfg, java.util.Map<String, Object> map, String key) {
        if (map.get(key) instanceof Number n) return n.doubleValue();
        throw cfg.bad("rope_scaling", "needs a number for '" + key + "'");
    }

    private static void validate(Config cfg, LlamaConfig c) {
        if (c.hiddenSize() % c.numHeads() != 0) throw cfg.bad("head count", "must divide the embedding size " + c.hiddenSize());
        if (c.numHeads() % c.numKvHeads() != 0) throw cfg.bad("kv head count", "must divide the head count " + c.numHeads());
        if (c.rotaryDims() > c.headDim() || c.rotaryDims() % 2 != 0) {
            throw cfg.bad("rope dimension count", "must be even and at most the head size " + c.headDim());
        }
    }

    public LlamaConfig config() { return config; }

    @Override public ModelInfo info() { return info; }

    @Override
    public int kvDim() { return config.kvDim(); }

    @Override
    public List<float[][]> forward(List<SequenceChunk> chunks, ResidualObserver observer) {
        BatchRows rows = BatchRows.of(chunks, config.maxPositions());
        float[][] x = ForwardMath.embed(embedding, rows.tokens());
        int n = rows.size();
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
            for (int r = 0; r < n; r++) ForwardMath.rmsNorm(h[r], x[r], layer.attnNorm(), config.eps());
            layer.wq().matmul(h, q);
            layer.wk().matmul(h, k);
            layer.wv().matmul(h, v);
            for (int r = 0; r < n; r++) {
                int pos = rows.positionOf()[r];
                rope.apply(q[r], heads, hd, pos);
                rope.apply(k[r], kvHeads, hd, pos);
                ForwardMath.storeKv(rows.kv(r), l, pos, k[r], 0, v[r], 0, kvDim);
            }
            ForwardMath.attentionRows(rows, l, q, heads, kvHeads, hd, scale, 0, null, att);
            layer.wo().matmul(att, h);
            for (int r = 0; r < n; r++) {
                ForwardMath.add(x[r], h[r], dim);
                ForwardMath.rmsNorm(h[r], x[r], layer.ffnNorm(), config.eps());
            }
            layer.gate().matmul(h, gate);
            layer.up().matmul(h, up);
            Parallel.forRange(n, 16L * ff, (start, end) -> { // exp-bound: worth both cores in batches
                for (int r = start; r < end; r++) ForwardMath.siluMul(gate[r], up[r], ff);
            });
            layer.down().matmul(gate, h);
            for (int r = 0; r < n; r++) {
                ForwardMath.add(x[r], h[r], dim);
                observer.afterBlock(l, r, x[r]);
            }
        }
        return ForwardMath.logits(rows, x, (out, row) -> ForwardMath.rmsNorm(out, row, finalNorm, config.eps()), classifier);
    }

    @Override
    public void close() { checkpoint.close(); }
}
