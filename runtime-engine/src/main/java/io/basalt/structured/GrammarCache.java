package io.basalt.structured;

import com.fasterxml.jackson.core.JsonProcessingException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Compiled grammars by (canonical schema, vocabulary fingerprint, limits, whitespace), LRU-bounded.
 * The canonical schema is the compact re-serialization (key order kept: it is the property order).
 * Concurrent requests for the same key compile once; a failed compile is not cached.
 */
public final class GrammarCache {
    private final int maxEntries;
    private final LinkedHashMap<String, CompletableFuture<CompiledGrammar>> map;

    public GrammarCache(int maxEntries) {
        if (maxEntries <= 0) throw new IllegalArgumentException("maxEntries must be positive");
        this.maxEntries = maxEntries;
        this.map = new LinkedHashMap<>(16, 0.75f, true) {
            @Override protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<CompiledGrammar>> e) {
                return size() > GrammarCache.this.maxEntries;
            }
        };
    }

    public CompiledGrammar schema(String schemaJson, TokenVocabulary vocab, Limits limits, SchemaCompiler.Whitespace ws) {
        if (schemaJson.length() > limits.maxSchemaBytes()) return SchemaCompiler.compile(schemaJson, vocab, limits, ws); // throws
        String canonical;
        try {
            canonical = Json.MAPPER.writeValueAsString(Json.MAPPER.readTree(schemaJson));
        } catch (JsonProcessingException e) {
            canonical = schemaJson;  // the compiler reports the error
        }
        String key = "schema\u0000" + canonical + "\u0000" + vocab.fingerprint() + "\u0000" + limits + "\u0000" + ws;
        String c = canonical;
        return get(key, () -> SchemaCompiler.compile(c, vocab, limits, ws));
    }

    public CompiledGrammar schema(String schemaJson, TokenVocabulary vocab) {
        return schema(schemaJson, vocab, Limits.DEFAULT, SchemaCompiler.Whitespace.FLEXIBLE);
    }

    public CompiledGrammar jsonObject(TokenVocabulary vocab, SchemaCompiler.Whitespace ws) {
        return get("json_object\u0000" + vocab.fingerprint() + "\u0000" + ws, () -> SchemaCompiler.jsonObject(vocab, ws));
    }

    public synchronized int size() { return map.size(); }

    private CompiledGrammar get(String key, java.util.function.Supplier<CompiledGrammar> compile) {
        CompletableFuture<CompiledGrammar> f, mine = null;
        synchronized (this) {
            f = map.get(key);
            if (f == null) {
                mine = new CompletableFuture<>();
                map.put(key, mine);
                f = mine;
            }
        }
        if (mine != null) {
            try {
                mine.complete(compile.get());
            } catch (RuntimeException e) {
                synchronized (this) { map.remove(key, mine); }
                mine.completeExceptionally(e);
                throw e;
            }
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a grammar", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        }
    }
}
