package io.basalt.model.layout;

/** GPT-2's hyper-parameters from config.json (n_layer, n_head, n_embd, vocab_size, n_positions, layer_norm_epsilon) or the llm.c header. */
public record Gpt2Config(int numLayers, int numHeads, int hiddenSize, int vocabSize, int maxPositions, float eps) {
    public int headDim() { return hiddenSize / numHeads; }

    /** Embeddings (tied head), per layer 12·C² + 13·C (qkv, proj, fc, fcProj and their biases, two LayerNorms), ln_f. */
    public long numParameters() {
        long c = hiddenSize;
        return (long) vocabSize * c + (long) maxPositions * c + 2 * c + (long) numLayers * (12 * c * c + 13 * c);
    }
}
