package io.basalt.model.arch;

import io.basalt.model.Format;
import java.nio.file.Path;
import java.util.Map;

/**
 * What a loaded model is: its architecture, sizes, where it came from, and the format's metadata
 * (config.json or GGUF key-values; the GGUF tokenizer lives there).
 */
public record ModelInfo(Architecture architecture, Path path, Format format, int vocabSize, int maxPositions,
                        int numLayers, int hiddenSize, long numParameters, Map<String, Object> metadata) {
    public enum Architecture { GPT2, LLAMA, GPT_OSS }
}
