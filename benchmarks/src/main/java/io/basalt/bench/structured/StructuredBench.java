package io.basalt.bench.structured;

import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.Limits;
import io.basalt.structured.Matcher;
import io.basalt.structured.SchemaCompiler;
import io.basalt.structured.SchemaException;
import io.basalt.structured.TokenVocabulary;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Grammar-engine timings on the JSONSchemaBench sample (a plain timed harness, one thread):
 * compile time per schema, and mask time per token along random walks (the SchemaBenchTest walk:
 * half the steps uniform over the mask, half over its non-string-text tokens), for o200k (gpt-oss,
 * 201,088 ids) and Llama 2's 32,000-piece SentencePiece vocabulary.
 * Usage: StructuredBench TESTDATA_DIR [rounds]
 */
public final class StructuredBench {
    public static void main(String[] args) throws Exception {
        Path testdata = Path.of(args.length > 0 ? args[0] : "testdata");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        List<String> schemas = new ArrayList<>();
        try (Stream<Path> s = Files.walk(testdata.resolve("reference/jsonschemabench"))) {
            for (Path p : s.filter(x -> x.toString().endsWith(".json")).sorted().toList()) schemas.add(Files.readString(p));
        }
        run("o200k_harmony", Tokenizers.o200kHarmony(), schemas, rounds);
        run("llama2 32k", Tokenizers.llama2c(testdata.resolve("models/llama2-tokenizer/tokenizer.bin"), 32000), schemas, rounds);
    }

    private static void run(String name, Tokenizer tok, List<String> schemas, int rounds) {
        long t0 = System.nanoTime();
        TokenVocabulary vocab = TokenVocabulary.of(tok);
        System.out.printf("%s: vocabulary + trie built in %d ms%n", name, (System.nanoTime() - t0) / 1_000_000);
        for (int r = 0; r < rounds; r++) {
            List<Long> compile = new ArrayList<>(), mask = new ArrayList<>();
            List<Long> firstMask = new ArrayList<>();
            int ok = 0;
            for (int i = 0; i < schemas.size(); i++) {
                long c0 = System.nanoTime();
                CompiledGrammar g;
                try {
                    g = SchemaCompiler.compile(schemas.get(i), vocab, Limits.DEFAULT);
                } catch (SchemaException e) {
                    continue;
                }
                compile.add(System.nanoTime() - c0);
                ok++;
                walk(g, new Random(i), mask, firstMask);
            }
            System.out.printf("%s round %d: %d schemas compiled; compile p50 %s p90 %s p99 %s max %s; "
                            + "mask (%d masks) p50 %s p90 %s p99 %s p99.9 %s max %s; first mask of a grammar p50 %s p99 %s%n",
                    name, r, ok, us(compile, 50), us(compile, 90), us(compile, 99), us(compile, 100), mask.size(),
                    us(mask, 50), us(mask, 90), us(mask, 99), us(mask, 99.9), us(mask, 100), us(firstMask, 50), us(firstMask, 99));
        }
    }

    private static void walk(CompiledGrammar g, Random rnd, List<Long> times, List<Long> first) {
        TokenVocabulary v = g.vocabulary();
        Matcher m = g.newMatcher();
        long[] maskBits = new long[v.maskWords()];
        int[] all = new int[v.size()];
        for (int step = 0; step < 512 && !m.isAccepting(); step++) {
            long t = System.nanoTime();
            m.fillMask(maskBits);
            long dt = System.nanoTime() - t;
            times.add(dt);
            if (step == 0) first.add(dt);
            int n = 0;
            for (int w = 0; w < maskBits.length; w++) {
                long bits = maskBits[w];
                while (bits != 0) { all[n++] = (w << 6) + Long.numberOfTrailingZeros(bits); bits &= bits - 1; }
            }
            if (n == 0) return;
            int id = all[rnd.nextInt(n)];
            if (rnd.nextBoolean()) {   // prefer structure now and then so that walks finish
                for (int k = 0; k < 8; k++) {
                    int c = all[rnd.nextInt(n)];
                    byte[] b = v.bytes(c);
                    if (b != null && (new String(b).contains("\"") || new String(b).matches(".*[,:}\\]].*"))) { id = c; break; }
                }
            }
            m.accept(id);
        }
    }

    private static String us(List<Long> xs, double pct) {
        if (xs.isEmpty()) return "-";
        long[] a = xs.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        int i = (int) Math.min(a.length - 1, Math.ceil(pct / 100.0 * a.length) - 1);
        return String.format("%.1fus", a[Math.max(0, i)] / 1000.0);
    }
}
