package io.basalt.frontend;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.model.Format;
import io.basalt.model.ModelFormatException;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.Architecture;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Finds the tokenizer that belongs to a model: an explicit file wins; otherwise the GGUF's
 * embedded vocabulary, a tokenizer.json beside the weights, a llama2.c tokenizer.bin/tok*.bin
 * beside the checkpoint, or the architecture's tiktoken encoding (GPT-2: r50k_base, gpt-oss:
 * o200k_harmony).
 */
public final class ModelTokenizer {
    private static final Logger LOG = Logger.getLogger("basalt.model");

    private ModelTokenizer() {}

    /**
     * The model's tokenizer, with the BOS/EOS ids the model itself declares (config.json and
     * generation_config.json's bos_token_id / eos_token_id, or GGUF metadata) taking precedence over the
     * tokenizer's own defaults ({@link #withDeclaredSpecials}). Logs a warning when the tokenizer has more tokens than the model, since
     * text can then encode to ids the model cannot take.
     *
     * @param explicit a tokenizer file given by the user, or null to find one
     */
    public static Tokenizer forModel(ModelInfo info, Path explicit) {
        Tokenizer found = find(info, explicit);
        if (found.vocabSize() > info.vocabSize()) {
            LOG.warning(() -> "the tokenizer " + found.name() + " has " + found.vocabSize() + " tokens but the model "
                    + info.path() + " only " + info.vocabSize() + ": the tokenizer and the model disagree, and "
                    + "text may encode to ids the model cannot take; pass the model's own tokenizer with --tokenizer");
        }
        return withDeclaredSpecials(info, found);
    }

    private static Tokenizer find(ModelInfo info, Path explicit) {
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
     * Ids the model has no embedding for are refused ({@link #checkInVocabulary}).
     */
    public static int[] promptIds(ModelInfo info, Tokenizer tok, String prompt) {
        int[] ids = tokenizePrompt(info, tok, prompt);
        checkInVocabulary(info, tok, ids);
        return ids;
    }

    /** {@link #promptIds} without the vocabulary check: what the tokenizer makes of the text (for /tokenize). */
    public static int[] tokenizePrompt(ModelInfo info, Tokenizer tok, String prompt) {
        int[] text = tok.encode(prompt);
        boolean addBos = prompt.isEmpty() || info.architecture() == Architecture.LLAMA;
        int[] ids = text;
        if (addBos && tok.bosId() >= 0) {
            ids = new int[text.length + 1];
            ids[0] = tok.bosId();
            System.arraycopy(text, 0, ids, 1, text.length);
        } else if (addBos && text.length == 0) {
            throw new IllegalArgumentException("the prompt is empty and the tokenizer has no BOS token");
        }
        return ids;
    }

    /**
     * Refuses ids that the tokenizer produced (prompt text, a chat template) but the model has no
     * embedding for: the tokenizer and the model disagree, which the engine's plain "outside the
     * vocabulary" would not say.
     */
    public static void checkInVocabulary(ModelInfo info, Tokenizer tok, int[] ids) {
        for (int id : ids) {
            if (id >= info.vocabSize()) {
                throw new IllegalArgumentException("the tokenizer " + tok.name() + " (" + tok.vocabSize() + " tokens) produced token id "
                        + id + ", beyond the model's vocabulary of " + info.vocabSize() + " tokens: the tokenizer and the model "
                        + "disagree; pass the model's own tokenizer with --tokenizer");
            }
        }
    }

    /**
     * The tokenizer with the model's declared BOS, which replaces the tokenizer's, and its declared EOS
     * ids, which are added to the tokenizer's. The tokenizer's EOS ids stay first where the model has
     * them (a chat template's eos_token text maps to the first), and those beyond the model's vocabulary
     * (GPT-2's 50256 for a 1000-token model) are dropped once the model declares its own.
     */
    static Tokenizer withDeclaredSpecials(ModelInfo info, Tokenizer tok) {
        Map<String, Object> declared = declaredIds(info);
        int vocab = Math.min(info.vocabSize(), tok.vocabSize());
        int bos = tok.bosId();
        for (int id : ids(declared.get("bos_token_id"))) {
            if (id >= 0 && id < vocab) {
                bos = id;
                break;
            }
        }
        List<Integer> declaredEos = new ArrayList<>();
        for (int id : ids(declared.get("eos_token_id"))) if (id >= 0 && id < vocab) declaredEos.add(id);
        Set<Integer> eos = new LinkedHashSet<>();
        for (int id : tok.eosIds()) if (declaredEos.isEmpty() || id < info.vocabSize()) eos.add(id);
        eos.addAll(declaredEos);
        int[] eosIds = eos.stream().mapToInt(Integer::intValue).toArray();
        if (bos == tok.bosId() && Arrays.equals(eosIds, tok.eosIds())) return tok;
        return new DeclaredSpecials(tok, bos, eosIds);
    }

    /**
     * bos_token_id / eos_token_id as the model declares them: GGUF's tokenizer.ggml.* keys, or
     * generation_config.json (what Hugging Face generates with) over config.json.
     */
    private static Map<String, Object> declaredIds(ModelInfo info) {
        Map<String, Object> out = new HashMap<>();
        if (info.format() == Format.GGUF) {
            putIfPresent(out, "bos_token_id", info.metadata().get("tokenizer.ggml.bos_token_id"));
            putIfPresent(out, "eos_token_id", info.metadata().get("tokenizer.ggml.eos_token_id"));
            return out;
        }
        putIfPresent(out, "bos_token_id", info.metadata().get("bos_token_id"));
        putIfPresent(out, "eos_token_id", info.metadata().get("eos_token_id"));
        Path dir = Files.isDirectory(info.path()) ? info.path() : info.path().toAbsolutePath().getParent();
        Path generation = dir == null ? null : dir.resolve("generation_config.json");
        if (generation != null && Files.isRegularFile(generation)) {
            try {
                Map<?, ?> g = new ObjectMapper().readValue(generation.toFile(), Map.class);
                putIfPresent(out, "bos_token_id", g.get("bos_token_id"));
                putIfPresent(out, "eos_token_id", g.get("eos_token_id"));
            } catch (IOException | RuntimeException e) {
                LOG.warning(() -> "ignoring " + generation + ": " + e.getMessage());
            }
        }
        return out;
    }

    private static void putIfPresent(Map<String, Object> out, String key, Object v) {
        if (v != null) out.put(key, v);
    }

    /** An id or a list of ids (config.json allows both for eos_token_id); anything else is none. */
    private static List<Integer> ids(Object v) {
        List<Integer> out = new ArrayList<>();
        if (v instanceof Number n && n.longValue() >= 0 && n.longValue() <= Integer.MAX_VALUE) out.add(n.intValue());
        if (v instanceof Iterable<?> list) for (Object x : list) out.addAll(ids(x));
        return out;
    }

    /** A tokenizer whose BOS/EOS ids are the model's; everything else is the tokenizer's. */
    private record DeclaredSpecials(Tokenizer base, int bosId, int[] eos) implements Tokenizer {
        @Override public int vocabSize() { return base.vocabSize(); }
        @Override public int[] encode(String text) { return base.encode(text); }
        @Override public int[] encodeWithSpecials(String text) { return base.encodeWithSpecials(text); }
        @Override public int[] eosIds() { return eos.clone(); }
        @Override public byte[] decodeBytes(int previousId, int id) { return base.decodeBytes(previousId, id); }
        @Override public String decode(int[] ids) { return base.decode(ids); }
        @Override public String name() { return base.name(); }
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
