package io.basalt.model.arch;

import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormatException;
import io.basalt.model.ModelFormats;
import io.basalt.model.arch.gpt2.Gpt2;
import io.basalt.model.arch.gptoss.GptOss;
import io.basalt.model.arch.llama.Llama;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Opens a model in any supported format and binds it to its architecture. */
public final class ModelLoader {
    private ModelLoader() {}

    public static Model load(Path path) { return load(path, LoadOptions.DEFAULT); }

    /** Loads with the given weight storage options; converted copies are freed when the model closes. */
    public static Model load(Path path, LoadOptions options) {
        Checkpoint checkpoint = ModelFormats.open(path);
        try {
            return switch (architectureOf(checkpoint)) {
                case GPT2 -> Gpt2.load(checkpoint, options);
                case LLAMA -> Llama.load(checkpoint, options);
                case GPT_OSS -> GptOss.load(checkpoint, options);
            };
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * The files a load of the model at path with these options maps: the checkpoint's files and, once
     * an earlier load has written it, the packed-weight cache file. For warming the page cache.
     */
    public static List<Path> mappedFiles(Path path, LoadOptions options) throws IOException {
        List<Path> files = new ArrayList<>(WeightCacheLocation.checkpointFiles(path));
        WeightCacheLocation.existingCacheFile(path, options).ifPresent(files::add);
        return files;
    }

    /**
     * What a model loaded on another backend is, without binding its weights here: the checkpoint is
     * opened for its metadata (the tokenizer lives there) and closed; sizes come from the runner's
     * spec; the parameter count is not known (0).
     */
    public static ModelInfo describe(Path path, io.basalt.spi.ModelSpec spec) {
        try (Checkpoint checkpoint = ModelFormats.open(path)) {
            return new ModelInfo(architectureOf(checkpoint), path, checkpoint.format(), spec.vocabSize(), spec.maxPositions(),
                    spec.numLayers(), spec.hiddenSize(), 0, checkpoint.metadata());
        }
    }

    public static ModelInfo.Architecture architectureOf(Checkpoint checkpoint) {
        return switch (checkpoint.format()) {
            case LLMC -> ModelInfo.Architecture.GPT2;
            case LLAMA2C -> ModelInfo.Architecture.LLAMA;
            case GGUF -> {
                Object arch = checkpoint.metadata().get("general.architecture");
                if ("llama".equals(arch)) yield ModelInfo.Architecture.LLAMA;
                throw new ModelFormatException(checkpoint.path(), "GGUF architecture '" + arch
                        + "' is not supported (supported: llama)");
            }
            case SAFETENSORS -> {
                Object type = checkpoint.metadata().get("model_type");
                if (type == null && checkpoint.metadata().containsKey("num_experts") && checkpoint.has("embedding.weight")) {
                    yield ModelInfo.Architecture.GPT_OSS; // openai/gpt-oss "original/" checkpoint: no model_type
                }
                if (type == null) throw new ModelFormatException(checkpoint.path(), "config.json has no model_type");
                yield switch (type.toString()) {
                    case "gpt2" -> ModelInfo.Architecture.GPT2;
                    case "llama", "mistral" -> ModelInfo.Architecture.LLAMA;
                    case "gpt_oss" -> ModelInfo.Architecture.GPT_OSS;
                    default -> throw new ModelFormatException(checkpoint.path(), "model_type '" + type
                            + "' is not supported (supported: gpt2, llama, gpt_oss)");
                };
            }
        };
    }
}
