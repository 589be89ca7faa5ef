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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/** Where the prompts come from; {@link #prompts} makes exactly n of them, reproducibly for a seed. */
public sealed interface Dataset {

    /** n prompts; tokenizer may be null where the dataset does not need one. */
    List<Prompt> prompts(int n, long seed, Tokenizer tokenizer);

    /**
     * A dataset of made-up text (random, prefix-repetition): it needs text of given lengths in tokens,
     * from a local tokenizer or, without one, from the server ({@link TextSource}).
     */
    sealed interface Synthetic extends Dataset {
        /** n prompts from this text source. */
        List<Prompt> prompts(int n, long seed, TextSource text);

        /** The dataset's name in messages. */
        String name();

        @Override
        default List<Prompt> prompts(int n, long seed, Tokenizer tokenizer) {
            if (tokenizer == null) {
                throw new IllegalArgumentException("the " + name() + " dataset builds prompts from the model's vocabulary: pass --tokenizer");
            }
            return prompts(n, seed, new RandomText(tokenizer));
        }
    }

    /** Lengths drawn uniformly from [len·(1−ratio), len·(1+ratio)], as vLLM's random dataset. */
    record RandomLengths(int inputLen, int outputLen, double rangeRatio) implements Synthetic {
        public RandomLengths {
            if (inputLen < 1 || outputLen < 1) throw new IllegalArgumentException("--random-input-len and --random-output-len must be >= 1");
            if (!(rangeRatio >= 0 && rangeRatio < 1)) throw new IllegalArgumentException("--random-range-ratio must be in [0, 1), got " + rangeRatio);
        }

        @Override
        public String name() { return "random"; }

        @Override
        public List<Prompt> prompts(int n, long seed, TextSource text) {
            SplittableRandom random = new SplittableRandom(seed);
            int[] in = new int[n], outLen = new int[n];
            SplittableRandom[] own = new SplittableRandom[n]; // each prompt its own stream: built in parallel, the same for a seed
            for (int i = 0; i < n; i++) {
                in[i] = draw(random, inputLen);
                outLen[i] = Math.max(1, draw(random, outputLen));
                own[i] = random.split();
            }
            return inParallel(n, i -> {
                TextSource.Text t = text.text(own[i], in[i]);
                return new Prompt(t.text(), t.tokens(), outLen[i]);
            });
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
    record PrefixRepetition(int prefixLen, int suffixLen, int numPrefixes, int outputLen) implements Synthetic {
        public PrefixRepetition {
            if (prefixLen < 1 || suffixLen < 0 || numPrefixes < 1 || outputLen < 1) {
                throw new IllegalArgumentException("prefix repetition needs --prefix-len >= 1, --suffix-len >= 0, --num-prefixes >= 1, --output-len >= 1");
            }
        }

        @Override
        public String name() { return "prefix-repetition"; }

        @Override
        public List<Prompt> prompts(int n, long seed, TextSource text) {
            SplittableRandom random = new SplittableRandom(seed);
            SplittableRandom[] forPrefix = new SplittableRandom[numPrefixes], forSuffix = new SplittableRandom[n];
            for (int i = 0; i < numPrefixes; i++) forPrefix[i] = random.split();
            for (int i = 0; i < n; i++) forSuffix[i] = random.split();
            List<String> prefixes = inParallel(numPrefixes, i -> text.text(forPrefix[i], prefixLen).text());
            List<Prompt> out = new ArrayList<>(inParallel(n, i -> {
                String t = prefixes.get(i % numPrefixes) + text.text(forSuffix[i], suffixLen).text();
                return new Prompt(t, text.count(t), outputLen);
            }));
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

    /**
     * make(i) for every i, in order, a few at a time: with the server's tokenizer each prompt is a few
     * HTTP round trips, which would add up to minutes one after another.
     */
    private static <T> List<T> inParallel(int n, IntFunction<T> make) {
        List<Future<T>> futures = new ArrayList<>(n);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(n, 8)), Thread.ofVirtual().factory());
        try {
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> make.apply(index)));
            }
            List<T> out = new ArrayList<>(n);
            for (Future<T> f : futures) out.add(f.get());
            return out;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r; // e.g. the server's /tokenize failing: the caller falls back
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow(); // after a failure, the rest need not run
        }
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
