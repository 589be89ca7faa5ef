package io.basalt.model.layout;

import io.basalt.model.Checkpoint;
import java.util.List;
import java.util.Map;

/**
 * gpt-oss hyper-parameters, read from either the Hugging Face config.json or the openai/gpt-oss
 * "original/config.json" (whose keys differ; MODELS.md lists both).
 */
public record GptOssConfig(int numLayers, int numExperts, int expertsPerToken, int vocabSize, int hiddenSize,
                           int intermediateSize, float swigluLimit, int headDim, int numHeads, int numKvHeads,
                           int slidingWindow, boolean[] slidingLayers, double ropeTheta, double ropeScalingFactor,
                           double initialContextLength, double ropeNtkAlpha, double ropeNtkBeta, float eps,
                           int maxPositions) {

    public static GptOssConfig from(Checkpoint checkpoint) {
        MetadataReader c = new MetadataReader(checkpoint);
        boolean original = !c.has("model_type");
        int layers = c.positiveInt("num_hidden_layers");
        boolean[] sliding = new boolean[layers];
        if (!original && c.has("layer_types")) {
            List<?> types = c.list("layer_types");
            if (types.size() != layers) throw c.bad("layer_types", "has " + types.size() + " entries for " + layers + " layers");
            for (int i = 0; i < layers; i++) sliding[i] = "sliding_attention".equals(types.get(i));
        } else {
            for (int i = 0; i < layers; i++) sliding[i] = i % 2 == 0; // even layers slide (gpt-oss reference)
        }
        double factor;
        double context;
        double alpha;
        double beta;
        if (original) {
            factor = c.real("rope_scaling_factor", 32);
            context = c.real("initial_context_length", 4096);
            alpha = c.real("rope_ntk_alpha", 1);
            beta = c.real("rope_ntk_beta", 32);
        } else {
            Map<String, Object> scaling = c.map("rope_scaling");
            factor = number(scaling, "factor", 32);
            context = number(scaling, "original_max_position_embeddings", c.real("initial_context_length", 4096));
            beta = number(scaling, "beta_fast", 32);
            alpha = number(scaling, "beta_slow", 1);
        }
        int maxPositions = original ? (int) Math.min(Integer.MAX_VALUE, (long) (context * factor))
                : c.positiveInt("max_position_embeddings", (int) (context * factor));
        GptOssConfig config = new GptOssConfig(layers,
                c.positiveInt(original ? "num_experts" : "num_local_experts"),
                c.positiveInt(original ? "experts_per_token" : "num_experts_per_tok", c.positiveInt("experts_per_token", 4)),
                c.positiveInt("vocab_size"), c.positiveInt("hidden_size"), c.positiveInt("intermediate_size"),
                (float) c.real("swiglu_limit", 7.0), c.positiveInt("head_dim"), c.positiveInt("num_attention_heads"),
                c.positiveInt("num_key_value_heads"), c.positiveInt("sliding_window"), sliding,
                c.real("rope_theta"), factor, context, alpha, beta, (float) c.real("rms_norm_eps", 1e-5), maxPositions);
        if (config.numHeads() % config.numKvHeads() != 0) throw c.bad("num_key_value_heads", "must divide num_attention_heads");
        if (config.expertsPerToken() > config.numExperts()) throw c.bad("experts per token", "exceeds the number of experts");
        if (config.hiddenSize() % 32 != 0 || config.intermediateSize() % 32 != 0) {
            throw c.bad("hidden_size/intermediate_size", "must be multiples of 32 (the MXFP4 block)");
        }
        return config;
    }

    private static double number(Map<String, Object> map, String key, double fallback) {
        return map.get(key) instanceof Number n ? n.doubleValue() : fallback;
    }

    public int kvDim() { return numKvHeads * headDim; }

    public boolean isSliding(int layer) { return slidingLayers[layer]; }

    public long numParameters() {
        long d = hiddenSize;
        long attn = d * numHeads * headDim * 2L + 2L * d * kvDim() + numHeads * (long) headDim + 2L * kvDim() + d + numHeads;
        long mlp = (long) numExperts * (d * 2L * intermediateSize + 2L * intermediateSize + intermediateSize * d + d)
                + numExperts * (d + 1);
        return 2L * vocabSize * d + d + numLayers * (attn + mlp + 2 * d);
    }
}
