package io.basalt.backend.torch;

import ai.djl.ndarray.NDArray;
import io.basalt.model.layout.ModelInfo;

/** One architecture's weights as NDArrays and its forward pass in libtorch operations. */
sealed interface TorchModel permits TorchGpt2, TorchLlama, TorchGptOss {
    /** Receives the residual stream [rows, hidden] after each block. */
    interface BlockObserver {
        BlockObserver NONE = (layer, residual) -> { };

        void afterBlock(int layer, NDArray residual);
    }

    ModelInfo info();

    /** Runs every block over the step's rows, writing their keys and values; returns the residual [rows, hidden]. */
    NDArray forward(Step step, TorchKvCache kv, BlockObserver observer);

    /** Final norm and output head over residual rows [m, hidden] → logits [m, vocab]. */
    NDArray logits(NDArray residual);
}
