package io.basalt.bench.structured;

import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.Limits;
import io.basalt.structured.Matcher;
import io.basalt.structured.SchemaCompiler;
import io.basalt.structured.TokenVocabulary;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-token mask time (issue acceptance: p50 ≤ 50 µs, p99 ≤ 1 ms on o200k) along random walks through the
 * JSONSchemaBench sample. Setup compiles every accepted schema and records one walk per schema (StructuredBench's
 * walk, seed = the schema's index, at most {@link #MAX_STEPS} tokens). Each invocation times one
 * {@code Matcher.fillMask}; advancing the matcher by the walk's next token (and, in {@code fresh} mode, compiling
 * the next walk's grammar) happens in an untimed per-invocation setup. Walks run round-robin over the schemas.
 *
 * <ul>
 *   <li>{@code grammar=fresh} (cold-ish): every walk gets a newly compiled grammar, so its mask cache starts empty;
 *       states the walk revisits (after a comma in the same array, …) still hit the cache the walk itself filled,
 *       as they would in one request. The vocabulary's own tables (tries, plain-token masks) are shared, as in the server.</li>
 *   <li>{@code grammar=reused} (warm): the grammar setup walked is replayed, so every mask is a cache hit (a copy
 *       of the cached mask): what a popular schema costs once the server's grammar cache holds it.</li>
 * </ul>
 *
 * <p>Run (one thread, a few minutes): {@code benchmarks/structured-bench.sh jmh GrammarMaskBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 4)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GrammarMaskBench {
    static final int MAX_STEPS = 256;

    @Param({"o200k", "llama2-32k"})
    public String vocab;

    @Param({"fresh", "reused"})
    public String grammar;

    private TokenVocabulary vocabulary;
    private String[] schemas;
    private CompiledGrammar[] compiled;
    private int[][] walks;
    private long[] mask;
    private boolean fresh;

    private int walk = -1;
    private int pos;
    private Matcher matcher;

    @Setup(Level.Trial)
    public void setUp() {
        long t0 = System.nanoTime();
        vocabulary = StructuredFixtures.vocabulary(vocab);
        fresh = switch (grammar) {
            case "fresh" -> true;
            case "reused" -> false;
            default -> throw new IllegalArgumentException("grammar: fresh or reused");
        };
        List<String> ok = StructuredFixtures.compilable(StructuredFixtures.sampleSchemas(), vocabulary);
        List<String> kept = new ArrayList<>();
        List<CompiledGrammar> gs = new ArrayList<>();
        List<int[]> ws = new ArrayList<>();
        long masks = 0;
        for (int i = 0; i < ok.size(); i++) {
            CompiledGrammar g = SchemaCompiler.compile(ok.get(i), vocabulary, Limits.DEFAULT);
            int[] w = StructuredFixtures.walk(g, i, MAX_STEPS);
            if (w.length == 0) continue;
            kept.add(ok.get(i));
            gs.add(fresh ? null : g);
            ws.add(w);
            masks += w.length;
        }
        schemas = kept.toArray(String[]::new);
        compiled = gs.toArray(CompiledGrammar[]::new);
        walks = ws.toArray(int[][]::new);
        mask = new long[vocabulary.maskWords()];
        System.out.printf("%n%s/%s: %d walks, %d masks per pass, setup %.1f s%n", vocab, grammar, walks.length, masks,
                (System.nanoTime() - t0) / 1e9);
    }

    /** Untimed: the walk's next token, or the next walk (a new matcher; in fresh mode a new grammar). */
    @Setup(Level.Invocation)
    public void advance() {
        if (matcher != null && pos + 1 < walks[walk].length) {
            matcher.accept(walks[walk][pos]);
            pos++;
            return;
        }
        walk = walk + 1 == walks.length ? 0 : walk + 1;
        pos = 0;
        CompiledGrammar g = fresh ? SchemaCompiler.compile(schemas[walk], vocabulary, Limits.DEFAULT) : compiled[walk];
        matcher = g.newMatcher();
    }

    @Benchmark
    public long[] fillMask() {
        matcher.fillMask(mask);
        return mask;
    }
}
