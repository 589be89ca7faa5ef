package io.basalt.bench.structured;

import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.Limits;
import io.basalt.structured.SchemaCompiler;
import io.basalt.structured.TokenVocabulary;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * Schema compile time (issue acceptance: p50 ≤ 5 ms) over the JSONSchemaBench sample
 * (testdata/reference/jsonschemabench), one schema per invocation, round-robin over every schema the compiler
 * accepts (the refused ones are left out; setup prints how many). SampleTime: JMH's p50/p99/p99.9 are over
 * invocations, so each schema weighs the same. Compiling builds the automaton only: masks are computed lazily
 * by the matcher (see GrammarMaskBench), so the vocabulary matters little here.
 *
 * <p>Run (one thread, about 2.5 minutes): {@code benchmarks/structured-bench.sh jmh GrammarCompileBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 3)      // the compiler's code takes ~4 warm-up iterations of 3 s to settle (C2)
@Measurement(iterations = 4, time = 4)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GrammarCompileBench {
    @Param({"o200k", "llama2-32k"})
    public String vocab;

    private TokenVocabulary vocabulary;
    private String[] schemas;
    private int next;

    @Setup
    public void setUp() {
        vocabulary = StructuredFixtures.vocabulary(vocab);
        List<String> all = StructuredFixtures.sampleSchemas();
        schemas = StructuredFixtures.compilable(all, vocabulary).toArray(String[]::new);
        System.out.printf("%n%s: %d of %d sample schemas compile (the others are refused and not timed)%n", vocab, schemas.length,
                all.size());
    }

    @Benchmark
    public CompiledGrammar compile() {
        String s = schemas[next];
        next = next + 1 == schemas.length ? 0 : next + 1;
        return SchemaCompiler.compile(s, vocabulary, Limits.DEFAULT);
    }
}
