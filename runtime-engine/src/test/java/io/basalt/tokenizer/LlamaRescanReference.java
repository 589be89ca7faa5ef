package io.basalt.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A direct transcription of llama2.c run.c encode (byte fallback id = byte + 3; merge loop with a full
 * rescan per merge and a strict '>' so the leftmost best pair wins), used only to cross-check the
 * heap-based merge of {@link SentencePieceBpe} on a tokenizer.bin vocabulary.
 */
final class LlamaRescanReference {
    private LlamaRescanReference() {}

    static int[] encode(Tokenizer tokenizer, String text) {
        SentencePieceBpe t = (SentencePieceBpe) tokenizer;
        int n = t.vocabSize();
        Map<String, Integer> lookup = new HashMap<>();
        for (int id = 0; id < n; id++) lookup.putIfAbsent(t.piece(id), id);
        List<Integer> tokens = new ArrayList<>();
        if (!text.isEmpty()) tokens.add(lookup.get(" "));
        text.codePoints().forEach(cp -> {
            byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
            Integer id = lookup.get(new String(utf8, StandardCharsets.ISO_8859_1));
            if (id != null) tokens.add(id); else for (byte b : utf8) tokens.add((b & 0xFF) + 3);
        });
        while (true) {
            float best = -1e10f;
            int bestId = -1, bestIdx = -1;
            for (int i = 0; i + 1 < tokens.size(); i++) {
                Integer id = lookup.get(t.piece(tokens.get(i)) + t.piece(tokens.get(i + 1)));
                if (id != null && t.score(id) > best) { best = t.score(id); bestId = id; bestIdx = i; }
            }
            if (bestIdx < 0) break;
            tokens.set(bestIdx, bestId);
            tokens.remove(bestIdx + 1);
        }
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }
}
