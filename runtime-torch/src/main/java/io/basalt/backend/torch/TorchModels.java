package io.basalt.backend.torch;

import ai.djl.ndarray.NDManager;
import io.basalt.model.Checkpoint;
import io.basalt.model.arch.ModelInfo;
import io.basalt.model.arch.ModelLoader;
import io.basalt.model.arch.gpt2.Gpt2Layout;
import io.basalt.model.arch.gptoss.GptOssLayout;
import io.basalt.model.arch.llama.LlamaLayout;

/** Binds a checkpoint to its architecture's torch implementation (the engine's readers and layouts, our math). */
final class TorchModels {
    private TorchModels() {}

    /** Copies every weight into {@code manager}; the checkpoint may be closed afterwards. */
    static TorchModel load(Checkpoint checkpoint, NDManager manager, TorchDtype dtype) {
        try (TorchWeights w = new TorchWeights(checkpoint, manager, dtype)) {
            InfoFactory info = (arch, vocab, maxPositions, layers, hidden) -> new ModelInfo(arch, checkpoint.path(),
                    checkpoint.format(), vocab, maxPositions, layers, hidden, w.elements(), checkpoint.metadata());
            return switch (ModelLoader.architectureOf(checkpoint)) {
                case GPT2 -> TorchGpt2.load(Gpt2Layout.of(checkpoint), w, info);
                case LLAMA -> TorchLlama.load(LlamaLayout.of(checkpoint), w, info);
                case GPT_OSS -> TorchGptOss.load(GptOssLayout.of(checkpoint), w, info);
            };
        }
    }
}
