package io.basalt.parity;

import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.layout.ModelInfo;
import io.basalt.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a prompt set into token ids with the model's own tokenizer and BOS rules (as {@code generate}
 * does). The tokenizer is found from the checkpoint's metadata only: the file is opened (mapped,
 * not loaded), so any backend can run text prompts without a second copy of the weights.
 */
final class PromptTokens {
    private PromptTokens() {}

    static List<int[]> encode(List<PromptSet.Entry> prompts, Path model, Path explicitTokenizer) {
        boolean anyText = prompts.stream().anyMatch(e -> e.text() != null);
        List<int[]> out = new ArrayList<>(prompts.size());
        if (!anyText) {
            for (PromptSet.Entry e : prompts) out.add(e.tokens());
            return out;
        }
        ModelInfo info = ModelInfo.describe(model);
        Tokenizer tok = ModelTokenizer.forModel(info, explicitTokenizer);
        for (PromptSet.Entry e : prompts) out.add(e.text() != null ? ModelTokenizer.promptIds(info, tok, e.text()) : e.tokens());
        return out;
    }
}
