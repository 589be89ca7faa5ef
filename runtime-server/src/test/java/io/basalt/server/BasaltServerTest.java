package io.basalt.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.api.SamplingParams;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.server.e2e.SseClient;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link BasaltServer} in-process: wiring, both transports, and the drain on shutdown. */
class BasaltServerTest {
    static final Path STORIES = Shared.model("stories260K/stories260K.bin");
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode post(HttpClient http, String url, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    @Test
    void servesHttpAndGrpcOnFreePortsWithTheEnginesAnswer() throws Exception {
        ServeSettings s = ServeSettings.forTests(STORIES).withNames(List.of("stories", "alias"));
        s = s.withServer(new ServerConfig("127.0.0.1", 0, 0, "", 1 << 20, Duration.ofSeconds(5)));
        try (BasaltServer server = BasaltServer.start(s)) {
            assertTrue(server.httpPort() > 0);
            assertTrue(server.grpcPort() > 0);
            assertNotEquals(server.httpPort(), server.grpcPort());
            assertEquals("basalt: serving stories, alias on http://127.0.0.1:" + server.httpPort() + " (gRPC :" + server.grpcPort() + ")",
                    server.readyLine());
            assertEquals(s.engine().maxNumSeqs() + s.maxQueue(), s.maxInFlight());

            HttpClient http = SseClient.http();
            HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, models.statusCode());
            assertTrue(models.body().contains("\"stories\""), models.body());

            String expected = server.engine().submit(new EngineRequest("ref", server.model().encodePrompt("Once upon a time"),
                    SamplingParams.greedy(20), 0)).result().join().choices().getFirst().text();
            for (String name : List.of("stories", "alias")) {
                JsonNode r = post(http, server.baseUrl() + "/v1/completions",
                        "{\"model\":\"" + name + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":20,\"temperature\":0}");
                assertEquals(expected, r.path("choices").path(0).path("text").asText(), r.toString());
            }
        }
    }

    @Test
    void withoutGrpcTheReadyLineSaysHttpOnly() {
        try (BasaltServer server = BasaltServer.start(ServeSettings.forTests(STORIES))) {
            assertEquals(-1, server.grpcPort());
            assertEquals("basalt: serving stories260K.bin on http://127.0.0.1:" + server.httpPort(), server.readyLine());
        }
    }

    @Test
    void shutdownLetsAcceptedRequestsFinishIncludingQueuedOnes() throws Exception {
        // 2 running at a time, 10 accepted: most wait in the engine's queue when the drain starts.
        ServeSettings s = ServeSettings.forTests(STORIES).withNames(List.of("stories"))
                .withEngine(new EngineConfig(2, 512, 32L << 20, true)).withMaxQueue(10);
        BasaltServer server = BasaltServer.start(s);
        URI completions = URI.create(server.baseUrl() + "/v1/completions");
        HttpClient http = SseClient.http();
        CountDownLatch first = new CountDownLatch(1);
        List<CompletableFuture<SseClient.Outcome>> clients = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 10; i++) {
                int seed = i;
                clients.add(CompletableFuture.supplyAsync(() -> SseClient.stream(http, completions, "stories", 300, seed, first), pool));
            }
            assertTrue(first.await(30, TimeUnit.SECONDS));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (server.service().inFlight() < 10 && System.nanoTime() < deadline) Thread.sleep(5);
            int inFlight = server.service().inFlight();
            long t0 = System.nanoTime();
            server.shutdown(Duration.ofSeconds(60));
            double took = (System.nanoTime() - t0) / 1e9;
            assertTrue(server.service().isDraining());
            int completed = 0;
            for (CompletableFuture<SseClient.Outcome> c : clients) {
                SseClient.Outcome o = c.get(30, TimeUnit.SECONDS);
                assertTrue(o.cleanlyEnded(), o.toString());
                if (o.completed()) completed++;
                assertNotEquals("abort", o.finishReason(), o.toString());
            }
            System.out.printf("[drain] %d in flight at shutdown, %d completed, drain took %.2f s%n", inFlight, completed, took);
            assertTrue(completed >= inFlight, completed + " completed of " + inFlight + " in flight");
            assertEquals(0, server.service().inFlight());
        }
        server.shutdown(Duration.ZERO); // idempotent
    }

    @Test
    void aShortGraceCutsTheRestOffButShutdownStillEnds() throws Exception {
        ServeSettings s = ServeSettings.forTests(STORIES).withNames(List.of("stories"))
                .withEngine(new EngineConfig(1, 512, 32L << 20, true)).withMaxQueue(8);
        BasaltServer server = BasaltServer.start(s);
        URI completions = URI.create(server.baseUrl() + "/v1/completions");
        HttpClient http = SseClient.http();
        CountDownLatch first = new CountDownLatch(1);
        List<CompletableFuture<SseClient.Outcome>> clients = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 8; i++) {
                int seed = i;
                clients.add(CompletableFuture.supplyAsync(() -> SseClient.stream(http, completions, "stories", 500, seed, first), pool));
            }
            assertTrue(first.await(30, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            server.shutdown(Duration.ofMillis(100));
            double took = (System.nanoTime() - t0) / 1e9;
            assertTrue(took < 20, "shutdown took " + took + " s with a 0.1 s grace");
            for (CompletableFuture<SseClient.Outcome> c : clients) c.get(30, TimeUnit.SECONDS); // nobody hangs
        }
    }

    @Test
    void aSecondShutdownWaitsForTheFirstAndBothReturn() throws Exception {
        BasaltServer server = BasaltServer.start(ServeSettings.forTests(STORIES));
        // A request in flight keeps the first shutdown draining while the second one arrives.
        server.service().submit("long", new int[] {1}, SamplingParams.builder().temperature(0f).maxTokens(500).ignoreEos(true).build(),
                0, e -> { });
        CompletableFuture<Void> first = new CompletableFuture<>();
        CompletableFuture<Void> second = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            server.shutdown(Duration.ofSeconds(10));
            first.complete(null);
        });
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (server.isRunning() && System.nanoTime() < deadline) Thread.onSpinWait();
        Thread.ofPlatform().daemon().start(() -> {
            server.shutdown(Duration.ZERO);
            second.complete(null);
        });
        second.get(30, TimeUnit.SECONDS);
        assertTrue(server.awaitStopped(Duration.ZERO), "the second shutdown returned before the first had stopped the server");
        first.get(30, TimeUnit.SECONDS);
    }

    static long engineThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("basalt-engine") && t.isAlive()).count();
    }

    @Test
    void aTakenGrpcPortFailsTheStartBeforeHttpListensAndSaysWhatToDo() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            ServeSettings s = ServeSettings.forTests(STORIES)
                    .withServer(new ServerConfig("127.0.0.1", 0, taken.getLocalPort(), "", 1 << 20, Duration.ofSeconds(1)));
            RuntimeException e = assertThrows(RuntimeException.class, () -> BasaltServer.start(s));
            assertTrue(e.getMessage().contains("cannot serve gRPC on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().contains("already in use") && e.getMessage().contains("--grpc-port -1"), e.getMessage());
        }
    }

    @Test
    void maxModelLenIsTheServedContext() {
        ServeSettings s = ServeSettings.forTests(STORIES)
                .withEngine(new io.basalt.engine.EngineConfig(4, 512, 40 << 10, true, 32));
        try (BasaltServer server = BasaltServer.start(s)) {
            assertEquals(32, server.model().contextLength());
        }
    }

    @Test
    void aFailedStartReleasesWhatItStarted() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            ServeSettings s = ServeSettings.forTests(STORIES)
                    .withServer(new ServerConfig("127.0.0.1", taken.getLocalPort(), -1, "", 1 << 20, Duration.ofSeconds(1)));
            long engines = engineThreads();
            RuntimeException e = assertThrows(RuntimeException.class, () -> BasaltServer.start(s));
            assertTrue(e.getMessage().contains("cannot serve HTTP on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().contains("choose another --port"), e.getMessage());
            // The engine's step thread went with it.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (engineThreads() > engines && System.nanoTime() < deadline) Thread.onSpinWait();
            assertEquals(engines, engineThreads(), "an engine thread is left running");
        }
        assertThrows(RuntimeException.class, () -> BasaltServer.start(ServeSettings.forTests(Path.of("/no/such/model.bin"))));
    }
}
