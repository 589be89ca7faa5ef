package io.basalt.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.layout.ModelInfo;
import io.basalt.server.InferenceService;
import io.basalt.server.ServedModel;
import io.basalt.server.ServerConfig;
import io.basalt.server.ServerMetrics;
import io.basalt.spi.Backend;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real HTTP server on 127.0.0.1:0 in front of a started engine on stories260K (set up the way
 * {@link io.basalt.Basalt} does), with a JDK HttpClient and helpers for JSON and SSE.
 */
final class TestServer implements AutoCloseable {
    static final String MODEL = "stories260K";
    static final ObjectMapper JSON = new ObjectMapper();

    final Engine engine;
    final ServedModel model;
    final InferenceService service;
    final HttpServer http;
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    final String base;
    private final String apiKey;

    private TestServer(Engine engine, ServedModel model, InferenceService service, HttpServer http, String apiKey) {
        this.engine = engine;
        this.model = model;
        this.service = service;
        this.http = http;
        this.base = "http://127.0.0.1:" + http.port();
        this.apiKey = apiKey;
    }

    static TestServer start() { return start(64, ServerConfig.forTests(), new EngineConfig(16, 1024, 32L << 20, true)); }

    static TestServer start(int maxInFlight, ServerConfig config, EngineConfig engineConfig) {
        return start("stories260K/stories260K.bin", List.of(MODEL, "stories-alias"), maxInFlight, config, engineConfig);
    }

    static TestServer start(String modelPath, List<String> names, int maxInFlight, ServerConfig config, EngineConfig engineConfig) {
        CpuModelRunner runner = new CpuBackend().load(Shared.model(modelPath),
                new Backend.LoadConfig(engineConfig.kvCacheMemoryBytes(), engineConfig.maxNumSeqs(), engineConfig.maxNumBatchedTokens()));
        ModelInfo info = runner.model().info();
        Tokenizer tokenizer = ModelTokenizer.forModel(info, null);
        Engine engine = new Engine(runner, tokenizer, engineConfig).start();
        ServedModel model = new ServedModel(names, info, tokenizer, engine, 1_700_000_000L);
        InferenceService service = new InferenceService(model, new ServerMetrics(engine, model.id()), maxInFlight, Duration.ZERO);
        HttpServer http = HttpServer.start(service, config);
        return new TestServer(engine, model, service, http, config.apiKey());
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (!apiKey.isEmpty()) b.header("Authorization", "Bearer " + apiKey);
        return b;
    }

    HttpResponse<String> post(String path, String body) {
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    HttpResponse<String> post(String path, byte[] body) {
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    HttpResponse<String> get(String path) { return send(request(path).GET().build()); }

    HttpResponse<String> send(HttpRequest r) {
        try {
            return client.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body(), e);
        }
    }

    static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    /** The JSON payloads of an SSE body, "[DONE]" as the string "[DONE]"; checks the framing. */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isEmpty()) continue;
            assertTrue(block.startsWith("data: "), "bad SSE block: " + block);
            out.add(block.substring("data: ".length()));
        }
        assertTrue(body.endsWith("data: [DONE]\n\n"), "stream must end with [DONE]: " + body);
        return out;
    }

    /** Asserts the OpenAI error shape and status; returns the error object. */
    static JsonNode assertError(HttpResponse<String> r, int status) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode e = json(r).get("error");
        assertNotNull(e, r.body());
        for (String k : new String[] {"message", "type", "param", "code"}) assertTrue(e.has(k), "missing " + k + ": " + r.body());
        assertTrue(e.get("message").isTextual() && !e.get("message").asText().isEmpty(), r.body());
        assertTrue(e.get("type").isTextual(), r.body());
        return e;
    }

    /** Waits until nothing runs and every KV block is free again. */
    void assertIdleSoon() {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            var s = engine.stats();
            if (s.kvUsedBlocks() == 0 && s.numRunning() == 0 && s.numWaiting() == 0 && service.inFlight() == 0) return;
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        }
        var s = engine.stats();
        throw new AssertionError("engine not idle: kvUsedBlocks=" + s.kvUsedBlocks() + " running=" + s.numRunning()
                + " waiting=" + s.numWaiting() + " inFlight=" + service.inFlight());
    }

    @Override
    public void close() {
        http.close(Duration.ofSeconds(2));
        service.close();
        engine.close();
    }
}
