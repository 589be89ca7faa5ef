package io.basalt.model.layout;

/** Llama's hyper-parameters, from GGUF metadata, a llama2.c header or config.json. */
public record LlamaConfig(int numLayers, int hiddenSize, int intermediateSize, int numHeads, int numKvHeads,
                          int vocabSize, int maxPositions, float eps, float ropeTheta, int rotaryDims) {
    public int headDim() { return hiddenSize / numHeads; }

    public int kvDim() { return numKvHeads * headDim(); }
}
