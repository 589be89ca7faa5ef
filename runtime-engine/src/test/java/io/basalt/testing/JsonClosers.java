package io.basalt.testing;

import io.basalt.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A logit bias that leans a story model toward closing JSON: +12 on every token holding a '}', +4 on one holding a '"'.
 * A tiny story model writing inside a free JSON string never closes it by itself (any object is unbounded), so the
 * json_object tests and e2e scripts send this; the grammar's mask comes first, so it only chooses among what is allowed.
 */
public final class JsonClosers {
    private JsonClosers() {}

    /** Token id → bias, in id order. */
    public static Map<Integer, Float> bias(Tokenizer t) {
        Map<Integer, Float> out = new LinkedHashMap<>();
        for (int id = 0; id < t.vocabSize(); id++) {
            String s;
            try {
                s = new String(t.decodeBytes(-1, id), StandardCharsets.ISO_8859_1);
            } catch (RuntimeException e) {
                continue;   // ids without bytes (special tokens)
            }
            if (s.indexOf('}') >= 0) out.put(id, 12f);
            else if (s.indexOf('"') >= 0) out.put(id, 4f);
        }
        return out;
    }
}
