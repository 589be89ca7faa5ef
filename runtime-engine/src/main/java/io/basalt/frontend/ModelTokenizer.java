package io.basalt.frontend;

import io.basalt.model.Format;
import io.basalt.model.ModelFormatException;
import io.basalt.model.arch.ModelInfo;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Finds the tokenizer that belongs to a model: an explicit file wins; otherwise the GGUF's
 * embedded vocabulary, a tokenizer.json beside the weights, a llama2.c tokenizer.bin/tok*.bin
 * beside the checkpoint, or the architecture's tiktoken encoding (GPT-2: r50k_base, gpt-oss:
 * o200k_harmony).
 */
public final class ModelTokenizer {
    private ModelTokenizer() {}

    /** @param explicit a tokenizer file given by the user, or null to find one */
    public static Tokenizer forModel(ModelInfo info, Path explicit) {
        if (explicit != null) return fromFile(explicit, info.vocabSize());
        Path dir = Files.isDirectory(info.path()) ? info.path() : info.path().toAbsolutePath().getParent();
        if (info.format() == Format.GGUF) return Tokenizers.gguf(info.path(), info.metadata());
        if (info.format() == Format.LLAMA2C) {
            Path found = findLlama2c(dir, info.vocabSize());
            if (found == null) {
                throw new ModelFormatException(info.path(), "no tokenizer found beside the checkpoint (looked for tokenizer.bin and "
                        + "tok*.bin); pass --tokenizer");
            }
            return Tokenizers.llama2c(found, info.vocabSize());
        }
        if (dir != null && Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            return Tokenizers.huggingFace(dir.resolve("tokenizer.json"));
        }
        return switch (info.architecture()) {
            case GPT2 -> Tokenizers.r50kBase();
            case GPT_OSS -> Tokenizers.o200kHarmony();
            case LLAMA -> throw new ModelFormatException(info.path(), "no tokenizer.json beside the weights; pass --tokenizer");
        };
    }

    /**
     * A text prompt as the model expects it: Llama-family prompts start with BOS (as llama2.c and
     * sentencepiece do); other models get BOS only for an empty prompt, so generation has a start.
     */
    public static int[] promptIds(ModelInfo info, Tokenizer tok, String prompt) {
        int[] text = tok.encode(prompt);
        boolean addBos = prompt.isEmpty() || info.architecture() == ModelInfo.Architecture.LLAMA;
        if (!addBos) return text;
        if (tok.bosId() < 0) {
            if (text.length == 0) throw new IllegalArgumentException("the prompt is empty and the tokenizer has no BOS token");
            return text;
        }
        int[] ids = new int[text.length + 1];
        ids[0] = tok.bosId();
        System.arraycopy(text, 0, ids, 1, text.length);
        return ids;
    }

    private static Tokenizer fromFile(Path file, int vocabSize) {
        if (!Files.isRegularFile(file)) throw new ModelFormatException(file, "tokenizer file does not exist");
        String name = file.getFileName().toString();
        if (name.endsWith(".json")) return Tokenizers.huggingFace(file);
        if (name.endsWith(".bin")) return Tokenizers.llama2c(file, vocabSize);
        throw new ModelFormatException(file, "unknown tokenizer file type (expected tokenizer.json or a llama2.c .bin)");
    }

    private static Path findLlama2c(Path dir, int vocabSize) {
        if (dir == null) return null;
        for (String name : new String[] {"tokenizer.bin", "tok" + vocabSize + ".bin"}) {
            if (Files.isRegularFile(dir.resolve(name))) return dir.resolve(name);
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("tok.*\\.bin")).sorted().findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }
}
