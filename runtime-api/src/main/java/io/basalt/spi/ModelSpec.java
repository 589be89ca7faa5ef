package io.basalt.spi;

/** The facts about a loaded model that the engine needs: vocabulary and context sizes, KV cost. */
public record ModelSpec(Architecture architecture, int vocabSize, int maxPositions, int numLayers, int hiddenSize,
                        long kvBytesPerToken) { }
