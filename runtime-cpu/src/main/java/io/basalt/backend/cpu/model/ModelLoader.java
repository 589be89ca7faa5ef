package io.basalt.backend.cpu.model;

import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormats;
import io.basalt.model.layout.LoadOptions;
import io.basalt.model.layout.ModelInfo;
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
            return switch (ModelInfo.architectureOf(checkpoint)) {
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
}
