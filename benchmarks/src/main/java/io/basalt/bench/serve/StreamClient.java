package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Sends one streaming request and times it: the SSE body is read as raw bytes and split into events
 * here, so each event is stamped ({@link System#nanoTime}) by the read that completed it, not after
 * some buffered reader decided to hand over a line.
 */
public final class StreamClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What came back: absolute nanoTime stamps; error null on success. */
    public record Exchange(long startNanos, long[] chunkNanos, long endNanos, String text, int usagePromptTokens,
                           int usageCompletionTokens, String error, String errorDetail) { }

    private final HttpClient http;
    private final URI uri;
    private final String model;
    private final Endpoint endpoint;
    private final String apiKey;
    private final Duration timeout;
    private final boolean ignoreEos;
    private final double temperature;
    private final ObjectNode extraBody;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-timeouts");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param timeout   whole-request limit (headers and stream), Duration.ZERO for none
     * @param extraBody fields merged into every request body (server-specific parameters), or null
     */
    public StreamClient(String baseUrl, String model, Endpoint endpoint, String apiKey, Duration timeout, boolean ignoreEos,
                        double temperature, ObjectNode extraBody) {
        String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        if (base.endsWith("/v1")) base = base.substring(0, base.length() - 3); // accept the SDKs' .../v1 form too
        this.uri = URI.create(base + endpoint.path());
        if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null) {
            throw new IllegalArgumentException("--base-url must be an http(s) URL such as http://127.0.0.1:8000, got '" + baseUrl + "'");
        }
        this.model = model;
        this.endpoint = endpoint;
        this.apiKey = apiKey == null ? "" : apiKey;
        this.timeout = timeout;
        this.ignoreEos = ignoreEos;
        this.temperature = temperature;
        this.extraBody = extraBody;
        // HTTP/1.1 as vLLM's client uses; an h2c upgrade attempt would only add a round trip.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** Sends the prompt and reads the whole stream (blocking; call from a virtual thread). */
    public Exchange send(String prompt, int maxTokens) {
        ObjectNode body = endpoint.body(model, prompt, maxTokens, ignoreEos, temperature);
        if (extraBody != null) body.setAll(extraBody.deepCopy());
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .header("Accept", "text/event-stream").POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (!apiKey.isEmpty()) rb.header("Authorization", "Bearer " + apiKey);
        if (!timeout.isZero()) rb.timeout(timeout); // covers the wait for the response headers
        Reader reader = new Reader();
        reader.start = System.nanoTime();
        HttpResponse<InputStream> response;
        try {
            response = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            return reader.fail("timeout", "no response headers within " + timeout.toMillis() + " ms");
        } catch (ConnectException e) {
            return reader.fail("connection", "cannot connect to " + uri + ": " + message(e));
        } catch (IOException e) {
            return reader.fail("connection", message(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return reader.fail("connection", "interrupted");
        }
        try (InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                byte[] head = in.readNBytes(4096);
                return reader.fail("http_" + response.statusCode(), errorMessage(new String(head, StandardCharsets.UTF_8)));
            }
            ScheduledFuture<?> deadline = null;
            if (!timeout.isZero()) {
                long left = timeout.toNanos() - (System.nanoTime() - reader.start);
                // Closing the body wakes the blocked read (it then sees the end of the stream).
                deadline = timers.schedule(() -> { reader.timedOut = true; closeQuietly(in); }, Math.max(0, left), TimeUnit.NANOSECONDS);
            }
            try {
                reader.read(in);
            } catch (IOException e) {
                if (!reader.timedOut && !reader.done) return reader.fail("connection", "stream broken: " + message(e));
            } finally {
                if (deadline != null) deadline.cancel(false);
            }
            if (reader.timedOut && !reader.done) return reader.fail("timeout", "stream not finished within " + timeout.toMillis() + " ms");
            return reader.finish();
        } catch (IOException e) {
            return reader.fail("connection", message(e));
        }
    }

    /** Splits the byte stream into SSE events and keeps what the measurement needs. */
    private final class Reader {
        long start;
        volatile boolean timedOut;
        long[] stamps = new long[64];
        int chunks;
        final StringBuilder text = new StringBuilder();
        int usagePrompt = -1, usageCompletion = -1;
        boolean done;
        long end; // when [DONE] (or the end of the stream) arrived
        String error, detail;

        void read(InputStream in) throws IOException {
            byte[] buf = new byte[8192];
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            StringBuilder data = new StringBuilder();
            for (int n; error == null && !done && (n = in.read(buf)) >= 0; ) {
                long now = System.nanoTime();
                for (int i = 0; i < n && error == null && !done; i++) {
                    byte b = buf[i];
                    if (b != '\n') {
                        line.write(b);
                        continue;
                    }
                    String l = line.toString(StandardCharsets.UTF_8);
                    line.reset();
                    if (l.endsWith("\r")) l = l.substring(0, l.length() - 1);
                    if (l.isEmpty()) { // a blank line ends an event
                        if (!data.isEmpty()) event(data.toString(), now);
                        data.setLength(0);
                    } else if (l.startsWith("data:")) {
                        if (!data.isEmpty()) data.append('\n');
                        data.append(l.startsWith("data: ") ? l.substring(6) : l.substring(5));
                    }
                }
            }
            if (error == null && !done && !data.isEmpty()) event(data.toString(), System.nanoTime());
            if (end == 0) end = System.nanoTime();
            if (done) in.transferTo(java.io.OutputStream.nullOutputStream()); // to the end, so the connection is reused
        }

        void event(String data, long now) {
            if (data.equals("[DONE]")) {
                done = true;
                end = now;
                return;
            }
            JsonNode chunk;
            try {
                chunk = JSON.readTree(data);
            } catch (IOException e) {
                error = "bad_stream";
                detail = "not JSON: " + abbreviate(data);
                return;
            }
            if (chunk.has("error")) {
                error = "bad_stream";
                detail = "error in stream: " + abbreviate(chunk.get("error").path("message").asText(chunk.get("error").toString()));
                return;
            }
            String t = endpoint.text(chunk);
            if (!t.isEmpty()) {
                if (chunks == stamps.length) stamps = Arrays.copyOf(stamps, chunks * 2);
                stamps[chunks++] = now;
                text.append(t);
            }
            JsonNode usage = chunk.get("usage");
            if (usage != null && usage.isObject()) {
                usagePrompt = usage.path("prompt_tokens").asInt(-1);
                usageCompletion = usage.path("completion_tokens").asInt(-1);
            }
        }

        Exchange finish() {
            if (error == null && !done) { error = "bad_stream"; detail = "the stream ended before data: [DONE]"; }
            if (error == null && chunks == 0) { error = "bad_stream"; detail = "no text in the stream"; }
            return new Exchange(start, Arrays.copyOf(stamps, chunks), end, text.toString(), usagePrompt, usageCompletion, error, detail);
        }

        Exchange fail(String kind, String why) {
            return new Exchange(start, Arrays.copyOf(stamps, chunks), System.nanoTime(), text.toString(), usagePrompt,
                    usageCompletion, kind, why);
        }
    }

    private static String errorMessage(String body) {
        try {
            JsonNode n = JSON.readTree(body);
            if (n.path("error").path("message").isTextual()) return n.path("error").path("message").asText();
        } catch (IOException ignored) {
            // not an OpenAI error body: show the start of what came
        }
        return abbreviate(body);
    }

    private static String abbreviate(String s) {
        s = s.strip();
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    private static String message(Exception e) { return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName(); }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the reader notices the closed stream either way
        }
    }

    @Override
    public void close() {
        timers.shutdownNow();
        http.close();
    }
}
