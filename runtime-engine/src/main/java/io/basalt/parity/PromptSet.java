package io.basalt.parity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The prompts of {@code parity run}: a JSONL file, one object per line, either
 * {@code {"prompt": "text"}} (tokenized with the model's tokenizer) or {@code {"tokens": [ids]}}.
 * Blank lines are skipped.
 */
public final class PromptSet {
    /** One prompt: its text (null for a token prompt) or its ids (null for a text prompt). */
    public record Entry(String text, int[] tokens) { }

    private PromptSet() {}

    public static List<Entry> read(Path file) {
        if (!Files.isRegularFile(file)) throw new ParityInputException("--prompts " + file + ": no such file");
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ParityInputException("--prompts " + file + ": cannot read: " + e.getMessage(), e);
        }
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            out.add(parse(lines.get(i), file + " line " + (i + 1)));
        }
        if (out.isEmpty()) throw new ParityInputException("--prompts " + file + ": no prompts (expected JSONL lines {\"prompt\": \"text\"} or {\"tokens\": [ids]})");
        return out;
    }

    static Entry parse(String line, String where) {
        JsonNode n;
        try {
            n = DumpMetadata.JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new ParityInputException(where + ": not JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject() || n.has("prompt") == n.has("tokens")) {
            throw new ParityInputException(where + ": expected an object with either \"prompt\" (text) or \"tokens\" (ids)");
        }
        if (n.has("prompt")) {
            if (!n.get("prompt").isTextual()) throw new ParityInputException(where + ": \"prompt\" must be a string");
            return new Entry(n.get("prompt").asText(), null);
        }
        JsonNode t = n.get("tokens");
        if (!t.isArray() || t.isEmpty()) throw new ParityInputException(where + ": \"tokens\" must be a non-empty array of token ids");
        int[] ids = new int[t.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = t.get(i);
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0) {
                throw new ParityInputException(where + ": \"tokens\"[" + i + "] is not a token id: " + v);
            }
            ids[i] = v.asInt();
        }
        return new Entry(null, ids);
    }
}
