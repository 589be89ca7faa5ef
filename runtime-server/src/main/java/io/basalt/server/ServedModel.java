package io.basalt.server;

import io.basalt.engine.Engine;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.layout.ModelInfo;
import io.basalt.tokenizer.Tokenizer;
import java.util.List;

/**
 * The model a server exposes: the engine that runs it, its tokenizer, and the names clients may
 * use for it (the first is the canonical id; the others are aliases).
 */
public record ServedModel(List<String> names, ModelInfo info, Tokenizer tokenizer, Engine engine, long createdEpochSeconds) {
    public ServedModel {
        if (names.isEmpty()) throw new IllegalArgumentException("a served model needs at least one name");
        names = List.copyOf(names);
    }

    public String id() { return names.getFirst(); }

    public boolean answersTo(String name) { return names.contains(name); }

    /** A text prompt as the model expects it (BOS rules of {@link ModelTokenizer#promptIds}). */
    public int[] encodePrompt(String prompt) { return ModelTokenizer.promptIds(info, tokenizer, prompt); }

    public int contextLength() { return engine.maxModelLen(); }
}
