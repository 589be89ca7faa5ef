package io.basalt.engine;

import io.basalt.api.Constraint;
import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.GrammarCache;
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
     * @throws SchemaException          a schema the grammar engine cannot or will not compile (names path and keyword)
     * @throws IllegalArgumentException the compile did not finish in time
     * @throws java.util.concurrent.RejectedExecutionException too many compiles queued (the server answers 429)
     */
    CompiledGrammar compile(Constraint constraint) {
        Future<CompiledGrammar> f = compilePool.submit(() -> compileNow(constraint));
        try {
            return f.get(COMPILE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IllegalArgumentException("response_format: compiling the schema did not finish within " + COMPILE_WAIT_SECONDS
                    + " s");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while compiling the response_format grammar");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;   // SchemaException (an IllegalArgumentException) among them
            if (c instanceof StackOverflowError) throw new IllegalArgumentException("response_format: the schema nests too deeply");
            if (c instanceof OutOfMemoryError) throw new IllegalArgumentException("response_format: the schema is too large");
            throw new IllegalStateException("compiling the response_format grammar failed: " + c, c);
        }
    }

    private CompiledGrammar compileNow(Constraint constraint) {
        GrammarCache c = cache();
        return switch (constraint) {
            case Constraint.JsonObject o -> c.jsonObject(vocabulary, SchemaCompiler.Whitespace.FLEXIBLE);
            case Constraint.JsonSchema s -> c.schema(s.schemaJson(), vocabulary);
        };
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
