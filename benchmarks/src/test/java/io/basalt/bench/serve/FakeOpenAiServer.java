package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted OpenAI completions server with SSE streaming: the first token 50 ms after the request
 * arrived, then one every 10 ms, max_tokens tokens, then a finish chunk, the usage chunk and [DONE].
 * The prompt picks a failure: "fail-500" (HTTP 500), "truncated" (3 tokens, then the stream ends
 * without [DONE]), "garbage" (2 tokens, then a chunk that is not JSON), "disconnect" (2 tokens, then
 * the connection is dropped mid-chunked-body), "stall" (1 token, then silence for 1.5 s); the model
 * "wrong" gets a 404 naming it, "no-usage" streams without the usage chunk. Usage counts a word as a
 * token. There is no /tokenize (a 404 that is not an OpenAI error).
 *
 * <p>It records, with System.nanoTime in the test's JVM, when each request arrived and, for each
 * chunk, when its write began and when its flush returned: the truth the instrument's timings are
 * checked against (a chunk cannot be received before its write began).
 */
final class FakeOpenAiServer implements AutoCloseable {
    static final long FIRST_TOKEN_MS = 50, TOKEN_GAP_MS = 10;

    /** One request as the server saw it; times are System.nanoTime. */
    static final class Truth {
        final String prompt;
        final int maxTokens;
        final JsonNode body;
        final long received;
        final List<Long> tokenWriting = new ArrayList<>(); // just before the write: nothing can arrive earlier
        final List<Long> tokenFlushed = new ArrayList<>(); // once the flush returned
        volatile long doneWriting = -1, doneFlushed = -1;

        Truth(String prompt, int maxTokens, JsonNode body, long received) {
            this.prompt = prompt;
            this.maxTokens = maxTokens;
            this.body = body;
            this.received = received;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    final Map<String, Truth> truth = new ConcurrentHashMap<>();
    final AtomicInteger requests = new AtomicInteger();

    FakeOpenAiServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/completions", this::handle);
        server.start();
    }

    String baseUrl() { return "http://127.0.0.1:" + server.getAddress().getPort(); }

    static int words(String s) { return s.isBlank() ? 0 : s.trim().split("\\s+").length; }

    private void handle(HttpExchange ex) throws IOException {
        long received = System.nanoTime();
        requests.incrementAndGet();
        JsonNode body = JSON.readTree(ex.getRequestBody());
        String prompt = body.path("prompt").asText();
        int maxTokens = body.path("max_tokens").asInt();
        Truth t = new Truth(prompt, maxTokens, body, received);
        truth.put(prompt, t);
        if (prompt.startsWith("fail-500")) {
            error(ex, 500, "{\"error\":{\"message\":\"scripted failure\",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
            return;
        }
        if (body.path("model").asText().equals("wrong")) {
            error(ex, 404, "{\"error\":{\"message\":\"The model 'wrong' does not exist\",\"type\":\"invalid_request_error\","
                    + "\"param\":\"model\",\"code\":\"model_not_found\"}}");
            return;
        }
        boolean usage = !body.path("model").asText().equals("no-usage");
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0); // chunked: every flush is one chunk on the wire
        OutputStream o = ex.getResponseBody();
        int tokens = prompt.startsWith("truncated") ? 3 : prompt.startsWith("garbage") || prompt.startsWith("disconnect") ? 2
                : prompt.startsWith("stall") ? 1 : maxTokens;
        try {
            sleepUntil(received + FIRST_TOKEN_MS * 1_000_000);
            for (int k = 0; k < tokens; k++) {
                if (k > 0) sleepUntil(t.tokenFlushed.get(k - 1) + TOKEN_GAP_MS * 1_000_000);
                t.tokenWriting.add(System.nanoTime());
                send(o, "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"t" + k
                        + " \",\"finish_reason\":null}],\"usage\":null}");
                t.tokenFlushed.add(System.nanoTime());
            }
            if (prompt.startsWith("truncated")) { o.close(); return; }
            if (prompt.startsWith("garbage")) { send(o, "{\"choices\": [oops"); o.close(); return; }
            if (prompt.startsWith("disconnect")) throw new IOException("scripted disconnect"); // the server drops the connection
            if (prompt.startsWith("stall")) { Thread.sleep(1500); o.close(); return; }
            send(o, "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}],"
                    + "\"usage\":null}");
            if (usage) {
                send(o, "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + words(prompt)
                        + ",\"completion_tokens\":" + tokens + ",\"total_tokens\":" + (words(prompt) + tokens) + "}}");
            }
            t.doneWriting = System.nanoTime();
            o.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            o.flush();
            t.doneFlushed = System.nanoTime();
            o.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void error(HttpExchange ex, int status, String json) throws IOException {
        byte[] err = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, err.length);
        try (OutputStream o = ex.getResponseBody()) { o.write(err); }
    }

    private static void send(OutputStream o, String json) throws IOException {
        o.write(("data: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
        o.flush();
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long wait = nanos - System.nanoTime();
        if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }

    @Override
    public void close() { server.stop(0); }
}
