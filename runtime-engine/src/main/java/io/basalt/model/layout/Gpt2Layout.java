package io.basalt.model.layout;

import io.basalt.model.Checkpoint;
import io.basalt.model.Format;
import io.basalt.model.ModelFormatException;

/**
 * GPT-2's configuration and tensor names, independent of any backend: the Hugging Face names
 * (Conv1D [in, out] weights, optional "transformer." prefix) and llm.c's (Linear [out, in] weights
 * under the same names).
 */
public record Gpt2Layout(Gpt2Config config, String prefix, boolean conv1d) {

    /** One block's tensors. */
    public record Block(VectorRef ln1Weight, VectorRef ln1Bias, MatrixRef qkv, VectorRef qkvBias, MatrixRef proj,
                        VectorRef projBias, VectorRef ln2Weight, VectorRef ln2Bias, MatrixRef fc, VectorRef fcBias,
                        MatrixRef fcProj, VectorRef fcProjBias) { }

    /** Reads and validates the configuration; a bad value names the key. */
    public static Gpt2Layout of(Checkpoint checkpoint) {
        MetadataReader cfg = new MetadataReader(checkpoint);
        Gpt2Config config = new Gpt2Config(cfg.positiveInt("n_layer"), cfg.positiveInt("n_head"),
                cfg.positiveInt("n_embd"), cfg.positiveInt("vocab_size"),
                cfg.positiveInt("n_positions", cfg.positiveInt("n_ctx", 1024)), (float) cfg.real("layer_norm_epsilon", 1e-5));
        if (config.hiddenSize() % config.numHeads() != 0) {
            throw cfg.bad("n_embd", "(" + config.hiddenSize() + ") must be a multiple of n_head (" + config.numHeads() + ")");
        }
        String p = checkpoint.has("transformer.wte.weight") ? "transformer." : "";
        // llm.c stores [out, in]; HF Conv1D stores [in, out]
        return new Gpt2Layout(config, p, checkpoint.format() != Format.LLMC);
    }

    /** Multi-head attention: every head keeps its own keys and values. */
    public KvGeometry kvGeometry() { return new KvGeometry(config.numLayers(), config.numHeads(), config.headDim()); }

    public Block block(int i) {
        String b = prefix + "h." + i + ".";
        long c = config.hiddenSize();
        return new Block(VectorRef.of(b + "ln_1.weight", c), VectorRef.of(b + "ln_1.bias", c),
                projection(b + "attn.c_attn.weight", c, 3 * c), VectorRef.of(b + "attn.c_attn.bias", 3 * c),
                projection(b + "attn.c_proj.weight", c, c), VectorRef.of(b + "attn.c_proj.bias", c),
                VectorRef.of(b + "ln_2.weight", c), VectorRef.of(b + "ln_2.bias", c),
                projection(b + "mlp.c_fc.weight", c, 4 * c), VectorRef.of(b + "mlp.c_fc.bias", 4 * c),
                projection(b + "mlp.c_proj.weight", 4 * c, c), VectorRef.of(b + "mlp.c_proj.bias", c));
    }

    private MatrixRef projection(String name, long in, long out) {
        return conv1d ? MatrixRef.conv1d(name, in, out) : MatrixRef.linear(name, out, in);
    }

    /** Token embeddings [vocab, C], also the lm_head. */
    public MatrixRef wte() { return MatrixRef.linear(prefix + "wte.weight", config.vocabSize(), config.hiddenSize()); }

    /** Position embeddings [maxPositions, C]. */
    public MatrixRef wpe() { return MatrixRef.linear(prefix + "wpe.weight", config.maxPositions(), config.hiddenSize()); }

    public VectorRef lnfWeight() { return VectorRef.of(prefix + "ln_f.weight", config.hiddenSize()); }

    public VectorRef lnfBias() { return VectorRef.of(prefix + "ln_f.bias", config.hiddenSize()); }

    /** The head is tied to wte; a stored lm_head must at least agree in shape. */
    public void checkHead(Checkpoint checkpoint) {
        if (checkpoint.has("lm_head.weight") && !checkpoint.tensor("lm_head.weight").hasShape(config.vocabSize(), config.hiddenSize())) {
            throw new ModelFormatException(checkpoint.path(), "lm_head.weight must equal wte.weight in shape");
        }
    }
}
