package io.basalt.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.basalt.testing.Shared;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code basalt serve} as a real process: under load, SIGTERM stops it from taking new requests,
 * lets the accepted ones finish (those still queued in the engine too), and it exits 0 within
 * the grace period.
 */
class SigtermDrainTest {
    static final int CLIENTS = 16;
    static final Duration GRACE = Duration.ofSeconds(30);

    static Process startServer() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx512m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "io.basalt.cli.Main", "serve",
                Shared.model("stories260K/stories260K.bin").toString(), "--port", "0", "--grpc-port", "0",
                "--max-num-seqs", "2", "--max-queue", "30", "--kv-cache-memory", "32MiB", "--threads", "1",
                "--shutdown-grace", GRACE.toSeconds() + "s", "--served-model-name", "stories"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("BASALT_API_KEY");
        return pb.start();
    }

    /** Copies a stream's lines to a queue, to {@code all}, and to our stdout (prefixed) until it ends. */
    static BlockingQueue<String> pump(InputStream in, String prefix, List<String> all) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    System.out.println(prefix + line);
                    lines.add(line);
                    all.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        return lines;
    }

    static String awaitLine(BlockingQueue<String> lines, String contains, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            String line = lines.poll(left, TimeUnit.NANOSECONDS);
            if (line != null && line.contains(contains)) return line;
        }
        return null;
    }

    @Test
    void sigtermDrainsAcceptedRequestsAndExitsZero() throws Exception {
        Process p = startServer();
        try {
            BlockingQueue<String> out = pump(p.getInputStream(), "[serve out] ", new CopyOnWriteArrayList<>());
            List<String> errLines = new CopyOnWriteArrayList<>();
            BlockingQueue<String> err = pump(p.getErrorStream(), "[serve err] ", errLines);
            String ready = awaitLine(out, "basalt: serving", Duration.ofSeconds(90));
            assertNotNull(ready, "the server never said it was ready");
            // It said what it chose before that: the backend with the threads asked for, then the KV cache.
            String backend = awaitLine(err, "cpu backend:", Duration.ofSeconds(10));
            assertTrue(backend != null && backend.contains("; 1 kernel threads,"), "backend line: " + backend);
            String kv = awaitLine(err, "KV cache", Duration.ofSeconds(10));
            assertTrue(kv != null && kv.contains("KV cache 32.0MiB: ") && kv.contains("full context(s) of 512"), "KV line: " + kv);
            Matcher m = Pattern.compile("http://[^ ]+:(\\d+) \\(gRPC :(\\d+)\\)").matcher(ready);
            assertTrue(m.find(), ready);
            URI completions = URI.create("http://127.0.0.1:" + m.group(1) + "/v1/completions");

            HttpClient http = SseClient.http();
            CountDownLatch firstChunk = new CountDownLatch(1);
            List<CompletableFuture<SseClient.Outcome>> clients = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < CLIENTS; i++) {
                    int seed = i;
                    clients.add(CompletableFuture.supplyAsync(() -> SseClient.stream(http, completions, "stories", 400, seed, firstChunk), pool));
                }
                assertTrue(firstChunk.await(60, TimeUnit.SECONDS), "no request started streaming");
                Thread.sleep(200); // every client has sent its request by now
                long sigterm = System.nanoTime();
                // SIGTERM. (Process.destroy() would send the same signal but also close our ends of its
                // stdout/stderr, and we want to read what it says while it drains.)
                assertTrue(p.toHandle().destroy(), "could not signal the server");
                assertNotNull(awaitLine(err, "shutting down", Duration.ofSeconds(10)),
                        () -> "no shutdown message; the server is " + (p.isAlive() ? "alive" : "gone with status " + p.exitValue()));

                // A request after the signal is refused (or finds the port closed): never served.
                SseClient.Outcome late = SseClient.stream(http, completions, "stories", 400, 999, null);
                assertTrue(late.status() != 200 || late.errorEvent() != null, "a request after SIGTERM was served: " + late);

                assertTrue(p.waitFor(GRACE.toSeconds() + 15, TimeUnit.SECONDS), "the server did not exit within the grace period");
                assertEquals(0, p.exitValue(), "exit status after SIGTERM");

                List<SseClient.Outcome> outcomes = new CopyOnWriteArrayList<>();
                for (CompletableFuture<SseClient.Outcome> c : clients) outcomes.add(c.get(30, TimeUnit.SECONDS));
                for (SseClient.Outcome o : outcomes) System.out.println("[client] " + o);
                for (SseClient.Outcome o : outcomes) assertTrue(o.cleanlyEnded(), "a request ended badly: " + o);
                long finishedAfterSignal = outcomes.stream()
                        .filter(o -> o.completed() && o.doneAtNanos() > sigterm).count();
                assertTrue(finishedAfterSignal > 0, "no request was still running at SIGTERM: the test proved nothing " + outcomes);
                assertFalse(outcomes.stream().anyMatch(o -> "abort".equals(o.finishReason())), "requests were aborted: " + outcomes);
                System.out.printf("[sigterm] %d of %d requests finished after SIGTERM; exit %d%n", finishedAfterSignal, CLIENTS,
                        p.exitValue());
            }
            assertNotNull(awaitLine(err, "basalt: stopped", Duration.ofSeconds(5)), "no 'stopped' message");
            // Logging still worked while it drained: one line per finished request.
            long logged = errLines.stream().filter(l -> l.contains("basalt.requests") && (l.contains("finish=[length]") || l.contains("finish=[stop]"))).count();
            assertEquals(CLIENTS, logged, "request log lines: " + errLines);
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                fail("the server was still running");
            }
        }
    }
}
