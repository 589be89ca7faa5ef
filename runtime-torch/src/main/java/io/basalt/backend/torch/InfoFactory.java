package io.basalt.backend.torch;

import io.basalt.model.arch.ModelInfo;

/** Describes a loaded model once its weights are in (the checkpoint's path, format and metadata; the parameters loaded). */
@FunctionalInterface
interface InfoFactory {
    ModelInfo create(ModelInfo.Architecture architecture, int vocabSize, int maxPositions, int numLayers, int hiddenSize);
}
