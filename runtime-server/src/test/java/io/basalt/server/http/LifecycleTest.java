package io.basalt.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.basalt.engine.EngineConfig;
import io.basalt.server.ServerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** Disconnects, slow readers, overload and shutdown: the engine must end up with every block free. */
class LifecycleTest {
    /** Captures InferenceService's one line per finished request ("request <id> … finish=[…]"). */
    static final class RequestLog extends Handler implements AutoCloseable {
        final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
        private final Logger logger = Logger.getLogger("basalt.requests");

        RequestLog() { logger.addHandler(this); }

        @Override public void publish(LogRecord r) { lines.add(r.getMessage()); }
        @Override public void flush() { }
        @Override public void close() { logger.removeHandler(this); }

        String awaitLine(String requestId) throws InterruptedException {
            for (int i = 0; i < 500; i++) {
                for (String l : lines) if (l.contains("request " + requestId + " ")) return l;
                Thread.sleep(10);
            }
            throw new AssertionError("no log line for " + requestId + ": " + lines);
        }
    }

    static Socket openStream(TestServer server, String body, int receiveBuffer) throws Exception {
        Socket s = new Socket();
        if (receiveBuffer > 0) s.setReceiveBufferSize(receiveBuffer);
        s.connect(new java.net.InetSocketAddress("127.0.0.1", server.http.port()));
        s.setSoTimeout(20_000);
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + b.length
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
        return s;
    }

    @Test
    void closingTheConnectionMidStreamAbortsTheRequestAndFreesItsBlocks() throws Exception {
        try (TestServer server = TestServer.start(); RequestLog log = new RequestLog()) {
            String id = null;
            try (Socket s = openStream(server, "{\"prompt\":\"Once\",\"max_tokens\":400,\"n\":2,\"ignore_eos\":true,\"stream\":true}", 0)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                assertTrue(in.readLine().startsWith("HTTP/1.1 200"));
                int events = 0;
                for (String line; events < 4 && (line = in.readLine()) != null; ) {
                    int at = line.indexOf("data: {");
                    if (at < 0) continue;
                    events++;
                    if (id == null) id = TestServer.json(line.substring(at + 6)).get("id").asText();
                }
                assertTrue(server.engine.stats().kvUsedBlocks() > 0, "the request should still be running");
            }
            server.assertIdleSoon();
            String line = log.awaitLine(id);
            assertTrue(line.contains("finish=[abort, abort]"), line);
            assertTrue(server.engine.stats().numGeneratedTokens() < 800, "generation went on after the disconnect");
        }
    }

    @Test
    void aNonStreamingClientThatLeavesIsAbortedToo() throws Exception {
        try (TestServer server = TestServer.start(); RequestLog log = new RequestLog()) {
            try (Socket s = openStream(server, "{\"prompt\":\"Once\",\"max_tokens\":450,\"n\":2,\"ignore_eos\":true}", 0)) {
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (server.engine.stats().kvUsedBlocks() == 0 && System.nanoTime() < deadline) Thread.sleep(2);
            }
            server.assertIdleSoon();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (log.lines.stream().noneMatch(l -> l.contains("finish=[abort, abort]")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(log.lines.stream().anyMatch(l -> l.contains("finish=[abort, abort]")), String.valueOf(log.lines));
        }
    }

    @Test
    void aClientThatStopsReadingGetsMergedChunksAndEveryToken() throws Exception {
        try (TestServer server = TestServer.start()) {
            String body = "{\"prompt\":\"Once\",\"max_tokens\":300,\"n\":2,\"ignore_eos\":true,\"stream\":true,\"logprobs\":20,\"seed\":5}";
            try (Socket s = openStream(server, body, 4096)) {
                // Do not read until the engine has finished: the server must merge instead of queueing frames.
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (server.engine.stats().numGeneratedTokens() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
                while (server.service.inFlight() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
                String all = OpenAiErrorsTest.readUntil(s.getInputStream(), "data: [DONE]");
                int chunks = 0, tokens = 0;
                StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
                for (String line : all.split("\n")) {
                    int at = line.indexOf("data: {");
                    if (at < 0) continue;
                    JsonNode j = TestServer.json(line.substring(at + 6));
                    for (JsonNode c : j.get("choices")) {
                        chunks++;
                        text[c.get("index").asInt()].append(c.get("text").asText());
                        if (c.get("logprobs").isObject()) tokens += c.at("/logprobs/tokens").size();
                    }
                }
                assertTrue(all.contains("data: [DONE]"), "stream did not end");
                assertEquals(600, tokens, "every token's logprobs must arrive");
                assertTrue(chunks < 600, "a slow reader should get merged chunks, got " + chunks);
                String whole = TestServer.json(server.post("/v1/completions",
                        body.replace(",\"stream\":true", ""))).at("/choices/1/text").asText();
                assertEquals(whole, text[1].toString());
            }
            server.assertIdleSoon();
        }
    }

    @Test
    void overloadIsRefusedQuicklyWith429AndAcceptedRequestsComplete() throws Exception {
        ServerConfig t = ServerConfig.forTests();
        try (TestServer server = TestServer.start(2, new ServerConfig(t.host(), 0, -1, "", t.maxBodyBytes(), Duration.ofSeconds(5)),
                new EngineConfig(4, 512, 16L << 20, true))) {
            server.post("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":2}");        // warm up
            List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
            List<Long> sentAt = new ArrayList<>();
            List<Long> doneAt = new java.util.concurrent.CopyOnWriteArrayList<>(new Long[10]);
            for (int i = 0; i < 10; i++) {
                HttpRequest r = server.request("/v1/completions").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"prompt\":\"Once\",\"max_tokens\":250,\"ignore_eos\":true}")).build();
                int k = i;
                sentAt.add(System.nanoTime());
                fs.add(server.client.sendAsync(r, HttpResponse.BodyHandlers.ofString()).whenComplete((x, e) -> doneAt.set(k, System.nanoTime())));
            }
            int ok = 0, refused = 0;
            for (int i = 0; i < fs.size(); i++) {
                HttpResponse<String> r = fs.get(i).join();
                if (r.statusCode() == 429) {
                    refused++;
                    TestServer.assertError(r, 429);
                    assertEquals("1", r.headers().firstValue("retry-after").orElse(""));
                    assertTrue(doneAt.get(i) - sentAt.get(i) < 2_000_000_000L, "a refusal must be quick");
                } else {
                    assertEquals(200, r.statusCode(), r.body());
                    assertEquals(250, TestServer.json(r).at("/usage/completion_tokens").asInt());
                    ok++;
                }
            }
            assertTrue(ok >= 2, "accepted " + ok);
            assertTrue(refused >= 1, "refused " + refused);
            assertTrue(server.service.metrics().scrape().contains("basalt:request_rejected"));
            server.assertIdleSoon();
        }
    }

    @Test
    void closeLetsARunningStreamFinishAndRefusesNewConnections() throws Exception {
        TestServer server = TestServer.start();
        try {
            CompletableFuture<HttpResponse<String>> stream = server.client.sendAsync(server.request("/v1/completions")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"Once\",\"max_tokens\":150,\"ignore_eos\":true,\"stream\":true}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (server.engine.stats().kvUsedBlocks() == 0 && System.nanoTime() < deadline) Thread.sleep(2);
            server.http.close(Duration.ofSeconds(20));
            HttpResponse<String> r = stream.join();
            assertEquals(200, r.statusCode());
            List<String> events = TestServer.events(r.body());
            assertEquals("length", TestServer.json(events.get(events.size() - 2)).at("/choices/0/finish_reason").asText());
            try (Socket s = new Socket("127.0.0.1", server.http.port())) {
                throw new AssertionError("still accepting connections");
            } catch (java.io.IOException expected) {
                // refused
            }
            server.assertIdleSoon();
        } finally {
            server.close();
        }
    }
}
