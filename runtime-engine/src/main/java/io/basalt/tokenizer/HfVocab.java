package io.basalt.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.model.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@link HuggingFaceTokenizerAdapter} needs from tokenizer.json that DJL does not expose: id → token
 * text, which ids are added/special tokens, the decoder style, and BOS/EOS (from the sibling
 * tokenizer_config.json and generation_config.json when present).
 */
record HfVocab(String[] tokens, boolean[] added, boolean[] special, DecoderStyle decoderStyle,
               int bosId, int[] eosIds) {

    enum DecoderStyle { BYTE_LEVEL, SENTENCEPIECE, OTHER }

    /** Special tokens that end generation in common model families, used when no config names them. */
    private static final List<String> KNOWN_EOS = List.of("</s>", "<|endoftext|>", "<|end_of_text|>", "<|eot_id|>", "<|im_end|>");
    private static final List<String> KNOWN_BOS = List.of("<s>", "<|begin_of_text|>", "<|startoftext|>");

    int size() { return tokens.length; }
    String token(int id) { return tokens[id]; }
    boolean isAdded(int id) { return added[id]; }
    boolean isSpecial(int id) { return special[id]; }

    static HfVocab read(Path file, ObjectMapper json) {
        JsonNode root = readJson(file, json);
        if (root == null) throw new ModelFormatException(file, "not found");
        JsonNode model = root.path("model");
        Map<Integer, String> byId = new HashMap<>();
        JsonNode vocab = model.path("vocab");
        if (vocab.isObject()) {                       // BPE, WordLevel, WordPiece: {"token": id}
            vocab.properties().forEach(e -> byId.put(e.getValue().asInt(), e.getKey()));
        } else if (vocab.isArray()) {                 // Unigram: [[piece, score], …], id = index
            for (int i = 0; i < vocab.size(); i++) byId.put(i, vocab.get(i).path(0).asText());
        } else {
            throw new ModelFormatException(file, "model.vocab missing: not a tokenizer.json?");
        }
        Set<Integer> addedIds = new LinkedHashSet<>(), specialIds = new LinkedHashSet<>();
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt();
            byId.put(id, t.path("content").asText());
            addedIds.add(id);
            if (t.path("special").asBoolean(false)) specialIds.add(id);
        }
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        String[] tokens = new String[size];
        boolean[] added = new boolean[size], special = new boolean[size];
        Map<String, Integer> idOf = new HashMap<>();
        byId.forEach((id, tok) -> { tokens[id] = tok; idOf.putIfAbsent(tok, id); });
        addedIds.forEach(id -> added[id] = true);
        specialIds.forEach(id -> special[id] = true);

        JsonNode config = readJson(file.resolveSibling("tokenizer_config.json"), json);
        JsonNode generation = readJson(file.resolveSibling("generation_config.json"), json);
        int bos = config != null ? idOf.getOrDefault(tokenText(config.path("bos_token")), -1) : -1;
        if (bos < 0) bos = firstKnown(KNOWN_BOS, idOf, specialIds);
        Set<Integer> eos = new LinkedHashSet<>();
        if (config != null) {
            Integer id = idOf.get(tokenText(config.path("eos_token")));
            if (id != null) eos.add(id);
        }
        if (generation != null) {
            JsonNode e = generation.path("eos_token_id");
            if (e.isInt()) eos.add(e.asInt());
            for (JsonNode x : e) eos.add(x.asInt());
        }
        if (eos.isEmpty()) {
            int guess = firstKnown(KNOWN_EOS, idOf, specialIds);
            if (guess >= 0) eos.add(guess);
        }
        return new HfVocab(tokens, added, special, decoderStyle(root.path("decoder")), bos,
                eos.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The decoder's component types decide how a token's text maps to bytes. */
    private static DecoderStyle decoderStyle(JsonNode decoder) {
        List<String> types = new ArrayList<>();
        collectTypes(decoder, types);
        if (types.contains("ByteLevel")) return DecoderStyle.BYTE_LEVEL;
        if (types.contains("ByteFallback") || types.contains("Metaspace")) return DecoderStyle.SENTENCEPIECE;
        return DecoderStyle.OTHER;
    }

    private static void collectTypes(JsonNode node, List<String> out) {
        if (node.has("type")) out.add(node.path("type").asText());
        for (JsonNode d : node.path("decoders")) collectTypes(d, out);
    }

    /** tokenizer_config.json writes a token either as a string or as {"content": …}. */
    private static String tokenText(JsonNode node) {
        return node.isTextual() ? node.asText() : node.path("content").asText(null);
    }

    private static int firstKnown(List<String> names, Map<String, Integer> idOf, Set<Integer> specialIds) {
        for (String name : names) {
            Integer id = idOf.get(name);
            if (id != null && specialIds.contains(id)) return id;
        }
        return -1;
    }

    private static JsonNode readJson(Path file, ObjectMapper json) {
        if (!Files.isRegularFile(file)) return null;
        try {
            return json.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file, "invalid JSON: " + e.getMessage(), e);
        }
    }
}
