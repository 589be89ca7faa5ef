package io.basalt.bench.serve;

import io.basalt.model.Format;
import io.basalt.model.ModelFormats;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The tokenizer the benchmark counts with, from {@code --tokenizer}: a Hugging Face tokenizer.json
 * (or a directory holding one), a llama2.c tokenizer .bin, a GGUF file's embedded vocabulary, or the
 * built-in tiktoken encodings by name ({@code gpt2}/{@code r50k_base}, {@code o200k_harmony}).
 */
public final class BenchTokenizer {
    private BenchTokenizer() {}

    public static Tokenizer load(String spec) {
        switch (spec.toLowerCase(Locale.ROOT)) {
            case "gpt2", "r50k_base" -> { return Tokenizers.r50kBase(); }
            case "o200k_harmony", "gpt-oss" -> { return Tokenizers.o200kHarmony(); }
            default -> { }
        }
        Path path = Path.of(spec);
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve("tokenizer.json"))) return Tokenizers.huggingFace(path.resolve("tokenizer.json"));
            Path bin = llama2cIn(path);
            if (bin != null) return Tokenizers.llama2c(bin, -1);
            throw new IllegalArgumentException("--tokenizer " + spec + ": the directory has no tokenizer.json or tokenizer .bin");
        }
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("--tokenizer " + spec + ": no such file (or gpt2, o200k_harmony)");
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".json")) return Tokenizers.huggingFace(path);
        if (ModelFormats.detect(path) == Format.GGUF) {
            // The tokenizer keeps reading the vocabulary from the mapped file: the checkpoint stays open.
            return Tokenizers.gguf(path, ModelFormats.open(path).metadata());
        }
        if (name.endsWith(".bin")) return Tokenizers.llama2c(path, -1);
        throw new IllegalArgumentException("--tokenizer " + spec + ": not a tokenizer.json, llama2.c .bin or GGUF file");
    }

    private static Path llama2cIn(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("tok.*\\.bin")).sorted().findFirst().orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
