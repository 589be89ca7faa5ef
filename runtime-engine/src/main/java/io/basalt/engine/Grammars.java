package io.basalt.engine;

import io.basalt.api.Constraint;
import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.GrammarCache;
import io.basalt.structured.Limits;
import io.basalt.structured.SchemaCompiler;
import io.basalt.structured.SchemaException;
import io.basalt.structured.TokenVocabulary;
import io.basalt.tokenizer.Tokenizer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The engine's side of constrained decoding (docs/STRUCTURED.md §2): the model's {@link TokenVocabulary} (built once,
 * on the first constrained request, so unconstrained serving never pays for it), the {@link GrammarCache}, a small
 * bounded compile pool, and the pool that fills masks while the forward pass runs.
 *
 * <p>Compiling happens in {@link Engine#submit}, on the caller's thread, which waits for the compile pool: the step
 * loop never waits for a compile, a {@link SchemaException} is thrown by submit itself (so the server answers 400
 * before any byte of a stream is sent), and the wait is bounded by the grammar's own compile limit (2 s) plus the
 * time queued behind at most {@link #COMPILE_QUEUE} other compiles. A cache hit never touches the pool.
 */
final class Grammars implements AutoCloseable {
    static final int COMPILE_THREADS = 2;
    static final int COMPILE_QUEUE = 64;
    /** Queueing plus compiling; the grammar engine stops a compile itself after 2 s. */
    static final long COMPILE_WAIT_SECONDS = 10;
    /** Distinct compiled grammars kept (LRU). */
    static final int CACHE_ENTRIES = 256;

    private final Tokenizer tokenizer;
    private final ExecutorService compilePool;
    private final ExecutorService maskPool;
    private volatile TokenVocabulary vocabulary;
    private volatile GrammarCache cache;

    Grammars(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.compilePool = new ThreadPoolExecutor(COMPILE_THREADS, COMPILE_THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(COMPILE_QUEUE), Thread.ofPlatform().name("basalt-grammar-compile-", 0).daemon(true).factory());
        ((ThreadPoolExecutor) compilePool).allowCoreThreadTimeOut(true);
        int maskThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2));
        this.maskPool = Executors.newFixedThreadPool(maskThreads, Thread.ofPlatform().name("basalt-grammar-mask-", 0).daemon(true).factory());
    }

    /**
     * The grammar of {@code constraint}, compiled (or found in the cache) on the compile pool while the caller waits.
     *
     * @throws SchemaException          a schema the grammar engine cannot or will not compile (names path and keyword; for a
     *                                  tagged constraint, the message starts with the tag: "tags[2]: …")
     * @throws IllegalArgumentException the compile did not finish in time, or a trigger id is outside the vocabulary
     * @throws java.util.concurrent.RejectedExecutionException too many compiles queued (the server answers 429)
     */
    CompiledConstraint compile(Constraint constraint) {
        String what = constraint instanceof Constraint.Tagged ? "tool" : "response_format";
        Future<CompiledConstraint> f = compilePool.submit(() -> compileNow(constraint));
        try {
            return f.get(COMPILE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IllegalArgumentException(what + ": compiling the schema did not finish within " + COMPILE_WAIT_SECONDS
                    + " s");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while compiling the " + what + " grammar");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;   // SchemaException (an IllegalArgumentException) among them
            if (c instanceof StackOverflowError) throw new IllegalArgumentException(what + ": the schema nests too deeply");
            if (c instanceof OutOfMemoryError) throw new IllegalArgumentException(what + ": the schema is too large");
            throw new IllegalStateException("compiling the " + what + " grammar failed: " + c, c);
        }
    }

    private CompiledConstraint compileNow(Constraint constraint) {
        GrammarCache c = cache();
        return switch (constraint) {
            case Constraint.JsonObject o -> new CompiledConstraint.Whole(c.jsonObject(vocabulary, SchemaCompiler.Whitespace.FLEXIBLE));
            case Constraint.JsonSchema s -> new CompiledConstraint.Whole(c.schema(s.schemaJson(), vocabulary, Limits.DEFAULT,
                    s.compact() ? SchemaCompiler.Whitespace.COMPACT : SchemaCompiler.Whitespace.FLEXIBLE));
            case Constraint.Tagged t -> compileTagged(t, c);
        };
    }

    /**
     * Each tag's schema, compact: a tagged region holds tool arguments, which are compact JSON (§1; gpt-oss writes them so),
     * and a compact region cannot idle in whitespace.
     */
    private TaggedGrammar compileTagged(Constraint.Tagged tagged, GrammarCache c) {
        int n = tagged.tags().size();
        int[][] triggers = new int[n][];
        CompiledGrammar[] grammars = new CompiledGrammar[n];
        for (int i = 0; i < n; i++) {
            Constraint.Tag tag = tagged.tags().get(i);
            triggers[i] = tag.trigger();
            for (int id : triggers[i]) {
                if (id < 0 || id >= vocabulary.size()) {
                    throw new IllegalArgumentException("tags[" + i + "]: trigger token id " + id + " is outside the vocabulary [0, "
                            + vocabulary.size() + ")");
                }
            }
            try {
                grammars[i] = c.schema(tag.schemaJson(), vocabulary, Limits.DEFAULT,
                        tag.compact() ? SchemaCompiler.Whitespace.COMPACT : SchemaCompiler.Whitespace.FLEXIBLE);
            } catch (SchemaException e) {
                throw new SchemaException(e.path(), e.keyword(), "tags[" + i + "]: " + e.getMessage());
            }
        }
        return new TaggedGrammar(triggers, grammars);
    }

    private GrammarCache cache() {
        GrammarCache c = cache;
        if (c != null) return c;
        synchronized (this) {
            if (cache == null) {
                vocabulary = TokenVocabulary.of(tokenizer);
                cache = new GrammarCache(CACHE_ENTRIES);
            }
            return cache;
        }
    }

    /** Where masks are filled while the forward pass runs. */
    ExecutorService maskPool() { return maskPool; }

    @Override
    public void close() {
        compilePool.shutdownNow();
        maskPool.shutdownNow();
    }
}
