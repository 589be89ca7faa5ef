package io.basalt.bench.structured;

import io.basalt.bench.SharedDir;
import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.Limits;
import io.basalt.structured.Matcher;
import io.basalt.structured.SchemaCompiler;
import io.basalt.structured.SchemaException;
import io.basalt.structured.TokenVocabulary;
import io.basalt.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** What the grammar benchmarks share: the two vocabularies, the JSONSchemaBench sample, the random walk. */
final class StructuredFixtures {
    private StructuredFixtures() { }

    /** o200k: gpt-oss's o200k_harmony (201,088 ids); llama2-32k: Llama 2's SentencePiece vocabulary (32,000 pieces). */
    static TokenVocabulary vocabulary(String name) {
        return switch (name) {
            case "o200k" -> TokenVocabulary.of(Tokenizers.o200kHarmony());
            case "llama2-32k" -> TokenVocabulary.of(Tokenizers.llama2c(SharedDir.model("llama2-tokenizer/tokenizer.bin"), 32000));
            default -> throw new IllegalArgumentException("unknown vocabulary " + name + " (o200k, llama2-32k)");
        };
    }

    /** testdata/reference/jsonschemabench, every *.json in path order. */
    static List<String> sampleSchemas() {
        Path models = SharedDir.model("stories260K").getParent();
        Path dir = models.getParent().resolve("reference/jsonschemabench");
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(x -> x.toString().endsWith(".json")).sorted().toList()) out.add(Files.readString(p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (out.isEmpty()) throw new IllegalStateException("no schemas under " + dir);
        return out;
    }

    /** The sample's schemas the compiler accepts (the refused ones throw SchemaException and are left out). */
    static List<String> compilable(List<String> schemas, TokenVocabulary vocab) {
        List<String> ok = new ArrayList<>();
        for (String s : schemas) {
            try {
                SchemaCompiler.compile(s, vocab, Limits.DEFAULT);
                ok.add(s);
            } catch (SchemaException e) {
                // refused: not part of the timing
            }
        }
        return ok;
    }

    /**
     * StructuredBench's walk: up to maxSteps tokens until the value is complete, half the steps uniform over the
     * mask, half preferring a token that holds structure (a quote, comma, colon or closing bracket) so walks end.
     * Returns the tokens chosen; the grammar's mask cache is filled along the way.
     */
    static int[] walk(CompiledGrammar g, long seed, int maxSteps) {
        Random rnd = new Random(seed);
        TokenVocabulary v = g.vocabulary();
        Matcher m = g.newMatcher();
        long[] mask = new long[v.maskWords()];
        int[] all = new int[v.size()];
        int[] out = new int[maxSteps];
        int steps = 0;
        for (; steps < maxSteps && !m.isAccepting(); steps++) {
            m.fillMask(mask);
            int n = 0;
            for (int w = 0; w < mask.length; w++) {
                long bits = mask[w];
                while (bits != 0) { all[n++] = (w << 6) + Long.numberOfTrailingZeros(bits); bits &= bits - 1; }
            }
            if (n == 0) break;
            int id = all[rnd.nextInt(n)];
            if (rnd.nextBoolean()) {
                for (int k = 0; k < 8; k++) {
                    int c = all[rnd.nextInt(n)];
                    byte[] b = v.bytes(c);
                    if (b != null) {
                        String s = new String(b, StandardCharsets.ISO_8859_1);
                        if (s.contains("\"") || s.matches("(?s).*[,:}\\]].*")) { id = c; break; }
                    }
                }
            }
            if (!m.accept(id)) throw new IllegalStateException("a masked token was refused");
            out[steps] = id;
        }
        return java.util.Arrays.copyOf(out, steps);
    }
}
