package io.basalt.model.layout;

import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.Format;
import io.basalt.model.ModelFormatException;
import io.basalt.model.ModelFormats;
import io.basalt.spi.Architecture;
import io.basalt.spi.ModelSpec;
import java.nio.file.Path;
import java.util.Map;

/**
 * What a model is: its architecture, sizes, KV shape, where it came from, and the format's metadata (config.json or
 * GGUF key-values; the GGUF tokenizer lives there). Read from the checkpoint's configuration alone, the same for every
 * backend, so nothing needs a particular backend's loaded model to describe it, and every runner's
 * {@link ModelSpec} comes from here ({@link #spec}).
 */
public record ModelInfo(Architecture architecture, Path path, Format format, int vocabSize, int maxPositions,
                        int numLayers, int hiddenSize, KvGeometry kv, long numParameters, Map<String, Object> metadata) {
    public ModelInfo {
        if (kv.numLayers() != numLayers) throw new IllegalArgumentException("KV geometry of " + kv.numLayers() + " layers for " + numLayers);
    }

    /** What the engine needs from a runner that keeps its KV cache as {@code kvDtype}. */
    public ModelSpec spec(DType kvDtype) {
        return new ModelSpec(architecture, vocabSize, maxPositions, numLayers, hiddenSize, kv.bytesPerToken(kvDtype));
    }

    /** The model at {@code path}: its checkpoint is opened for the configuration (no weight is read) and closed. */
    public static ModelInfo describe(Path path) {
        try (Checkpoint checkpoint = ModelFormats.open(path)) {
            return of(checkpoint);
        }
    }

    /** An open checkpoint's description; a configuration that does not hold together is a {@link ModelFormatException}. */
    public static ModelInfo of(Checkpoint checkpoint) {
        return switch (architectureOf(checkpoint)) {
            case GPT2 -> {
                Gpt2Layout layout = Gpt2Layout.of(checkpoint);
                Gpt2Config c = layout.config();
                yield of(Architecture.GPT2, checkpoint, c.vocabSize(), c.maxPositions(), c.numLayers(), c.hiddenSize(),
                        layout.kvGeometry(), c.numParameters());
            }
            case LLAMA -> {
                LlamaLayout layout = LlamaLayout.of(checkpoint);
                LlamaConfig c = layout.config();
                yield of(Architecture.LLAMA, checkpoint, c.vocabSize(), c.maxPositions(), c.numLayers(), c.hiddenSize(),
                        layout.kvGeometry(), layout.numParameters());
            }
            case GPT_OSS -> {
                GptOssLayout layout = GptOssLayout.of(checkpoint);
                GptOssConfig c = layout.config();
                yield of(Architecture.GPT_OSS, checkpoint, c.vocabSize(), c.maxPositions(), c.numLayers(), c.hiddenSize(),
                        layout.kvGeometry(), c.numParameters());
            }
        };
    }

    private static ModelInfo of(Architecture a, Checkpoint c, int vocab, int maxPositions, int layers, int hidden, KvGeometry kv,
                                long params) {
        return new ModelInfo(a, c.path(), c.format(), vocab, maxPositions, layers, hidden, kv, params, c.metadata());
    }

    /** Which architecture a checkpoint holds, from its format and metadata. */
    public static Architecture architectureOf(Checkpoint checkpoint) {
        return switch (checkpoint.format()) {
            case LLMC -> Architecture.GPT2;
            case LLAMA2C -> Architecture.LLAMA;
            case GGUF -> {
                Object arch = checkpoint.metadata().get("general.architecture");
                if ("llama".equals(arch)) yield Architecture.LLAMA;
                throw new ModelFormatException(checkpoint.path(), "GGUF architecture '" + arch
                        + "' is not supported (supported: llama)");
            }
            case SAFETENSORS -> {
                Object type = checkpoint.metadata().get("model_type");
                if (type == null && checkpoint.metadata().containsKey("num_experts") && checkpoint.has("embedding.weight")) {
                    yield Architecture.GPT_OSS; // openai/gpt-oss "original/" checkpoint: no model_type
                }
                if (type == null) throw new ModelFormatException(checkpoint.path(), "config.json has no model_type");
                yield switch (type.toString()) {
                    case "gpt2" -> Architecture.GPT2;
                    case "llama", "mistral" -> Architecture.LLAMA;
                    case "gpt_oss" -> Architecture.GPT_OSS;
                    default -> throw new ModelFormatException(checkpoint.path(), "model_type '" + type
                            + "' is not supported (supported: gpt2, llama, gpt_oss)");
                };
            }
        };
    }
}
