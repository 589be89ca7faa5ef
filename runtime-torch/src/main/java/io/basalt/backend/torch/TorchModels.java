package io.basalt.backend.torch;

import ai.djl.ndarray.NDManager;
import io.basalt.model.Checkpoint;
import io.basalt.model.layout.Gpt2Layout;
import io.basalt.model.layout.GptOssLayout;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.ModelInfo;

/** Binds a checkpoint to its architecture's torch implementation (the engine's readers and layouts, our math). */
final class TorchModels {
    private TorchModels() {}

    /** Copies every weight into {@code manager}; the checkpoint may be closed afterwards. */
    static TorchModel load(Checkpoint checkpoint, NDManager manager, TorchDtype dtype) {
        TorchWeights w = new TorchWeights(checkpoint, manager, dtype);
        ModelInfo info = ModelInfo.of(checkpoint);
        return switch (info.architecture()) {
            case GPT2 -> TorchGpt2.load(Gpt2Layout.of(checkpoint), w, info);
            case LLAMA -> TorchLlama.load(LlamaLayout.of(checkpoint), w, info);
            case GPT_OSS -> TorchGptOss.load(GptOssLayout.of(checkpoint), w, info);
        };
    }
}
