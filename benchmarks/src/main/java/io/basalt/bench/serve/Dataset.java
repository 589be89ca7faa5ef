package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/** Where the prompts come from; {@link #prompts} makes exactly n of them, reproducibly for a seed. */
public sealed interface Dataset {

    /** n prompts; tokenizer may be null where the dataset does not need one. */
    List<Prompt> prompts(int n, long seed, Tokenizer tokenizer);

    /** Lengths drawn uniformly from [len·(1−ratio), len·(1+ratio)], as vLLM's random dataset. */
    record RandomLengths(int inputLen, int outputLen, double rangeRatio) implements Dataset {
        public RandomLengths {
            if (inputLen < 1 || outputLen < 1) throw new IllegalArgumentException("--random-input-len and --random-output-len must be >= 1");
            if (!(rangeRatio >= 0 && rangeRatio < 1)) throw new IllegalArgumentException("--random-range-ratio must be in [0, 1), got " + rangeRatio);
        }

        @Override
        public List<Prompt> prompts(int n, long seed, Tokenizer tokenizer) {
            RandomText text = new RandomText(require(tokenizer, "random"));
            SplittableRandom random = new SplittableRandom(seed);
            List<Prompt> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int in = draw(random, inputLen), outLen = Math.max(1, draw(random, outputLen));
                String t = text.text(random, in);
                out.add(new Prompt(t, text.count(t), outLen));
            }
            return out;
        }

        private int draw(SplittableRandom random, int len) {
            int lo = (int) (len * (1 - rangeRatio)), hi = (int) (len * (1 + rangeRatio));
            return lo + random.nextInt(hi - lo + 1);
        }
    }

    /**
     * numPrefixes random prefixes of prefixLen tokens, each request one of them plus its own suffix
     * of suffixLen tokens, in shuffled order: with prefix caching the prefixes are computed once.
     */
    record PrefixRepetition(int prefixLen, int suffixLen, int numPrefixes, int outputLen) implements Dataset {
        public PrefixRepetition {
            if (prefixLen < 1 || suffixLen < 0 || numPrefixes < 1 || outputLen < 1) {
                throw new IllegalArgumentException("prefix repetition needs --prefix-len >= 1, --suffix-len >= 0, --num-prefixes >= 1, --output-len >= 1");
            }
        }

        @Override
        public List<Prompt> prompts(int n, long seed, Tokenizer tokenizer) {
            RandomText text = new RandomText(require(tokenizer, "prefix-repetition"));
            SplittableRandom random = new SplittableRandom(seed);
            List<String> prefixes = new ArrayList<>();
            for (int i = 0; i < numPrefixes; i++) prefixes.add(text.text(random, prefixLen));
            List<Prompt> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String t = prefixes.get(i % numPrefixes) + text.text(random, suffixLen);
                out.add(new Prompt(t, text.count(t), outputLen));
            }
            Collections.shuffle(out, new Random(seed));
            return out;
        }
    }

    /**
     * One JSON object per line with "prompt" (or "text"), and optionally the output length as
     * "output_tokens", "max_tokens" or "output_len" (else outputLen); lines are reused in order when n
     * is larger than the file.
     */
    record Jsonl(Path file, int outputLen) implements Dataset {
        @Override
        public List<Prompt> prompts(int n, long seed, Tokenizer tokenizer) {
            List<Prompt> all = new ArrayList<>();
            int lineNo = 0;
            for (String line : lines(file)) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonNode o = parse(file, line, "line " + lineNo);
                JsonNode p = o.has("prompt") ? o.get("prompt") : o.get("text");
                if (p == null || !p.isTextual()) throw new IllegalArgumentException(file + " line " + lineNo + ": no \"prompt\" string");
                int len = outputLen;
                for (String k : new String[] {"output_tokens", "max_tokens", "output_len"}) if (o.path(k).canConvertToInt()) len = o.get(k).asInt();
                all.add(new Prompt(p.asText(), count(tokenizer, p.asText()), len));
            }
            return cycle(all, n, file);
        }
    }

    /**
     * A ShareGPT-format JSON array ({@code [{"conversations": [{"from": "human", "value": ...},
     * {"from": "gpt", "value": ...}]}]}): the first turn is the prompt, the reply's length in tokens the
     * output length (or outputLen when given). Shuffled by the seed; with a tokenizer, conversations
     * vLLM would skip (under 4 tokens either side, prompt over 1024, both over 2048) are skipped.
     */
    record ShareGpt(Path file, Integer outputLen) implements Dataset {
        @Override
        public List<Prompt> prompts(int n, long seed, Tokenizer tokenizer) {
            if (tokenizer == null && outputLen == null) {
                throw new IllegalArgumentException("sharegpt: output lengths come from the replies' token counts; pass --tokenizer or --output-len");
            }
            JsonNode root;
            try {
                root = new ObjectMapper().readTree(file.toFile());
            } catch (java.io.FileNotFoundException e) {
                throw new IllegalArgumentException(file + ": no such file");
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ": not a ShareGPT JSON file (" + e.getMessage() + ")");
            }
            if (!root.isArray()) throw new IllegalArgumentException(file + ": expected a JSON array of conversations");
            List<JsonNode> convs = new ArrayList<>();
            root.forEach(convs::add);
            Collections.shuffle(convs, new Random(seed));
            List<Prompt> out = new ArrayList<>();
            for (JsonNode c : convs) {
                JsonNode turns = c.path("conversations");
                if (!turns.isArray() || turns.size() < 2) continue;
                String prompt = turns.get(0).path("value").asText(""), reply = turns.get(1).path("value").asText("");
                int promptLen = count(tokenizer, prompt);
                int outLen = outputLen != null ? outputLen : count(tokenizer, reply);
                if (tokenizer != null && (promptLen < 4 || outLen < 4 || promptLen > 1024 || promptLen + outLen > 2048)) continue;
                if (prompt.isEmpty()) continue;
                out.add(new Prompt(prompt, promptLen, outLen));
                if (out.size() == n) break;
            }
            return cycle(out, n, file);
        }
    }

    private static Tokenizer require(Tokenizer tokenizer, String dataset) {
        if (tokenizer == null) {
            throw new IllegalArgumentException("the " + dataset + " dataset builds prompts from the model's vocabulary: pass --tokenizer");
        }
        return tokenizer;
    }

    private static int count(Tokenizer tokenizer, String text) {
        return tokenizer == null ? -1 : text.isEmpty() ? 0 : tokenizer.encode(text).length;
    }

    private static List<Prompt> cycle(List<Prompt> all, int n, Path file) {
        if (all.isEmpty()) throw new IllegalArgumentException(file + ": no usable prompts");
        List<Prompt> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(all.get(i % all.size()));
        return out;
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode parse(Path file, String text, String where) {
        try {
            JsonNode n = new ObjectMapper().readTree(text);
            if (!n.isObject()) throw new IllegalArgumentException(file + " " + where + ": expected a JSON object");
            return n;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " " + where + ": not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }
}
