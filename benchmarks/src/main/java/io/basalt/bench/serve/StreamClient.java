package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import javax.net.ssl.SSLSocketFactory;

/**
 * Sends one streaming request and times it, on the calling (virtual) thread from start to end: the
 * request is written and the response read on a pooled keep-alive connection ({@link ConnectionPool},
 * {@link HttpConnection}) with no other thread in between, the SSE body is split into events from the
 * raw bytes here, and each event is stamped ({@link System#nanoTime}) as soon as the socket read that
 * completed it returned, not after some buffered reader decided to hand over a line.
 */
public final class StreamClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** After [DONE], how long the end of the body (the last chunk) may take before the connection is dropped instead of reused. */
    private static final long DRAIN_NANOS = 2_000_000_000L;

    /** What came back: absolute nanoTime stamps; error null on success. */
    public record Exchange(long startNanos, long[] chunkNanos, long endNanos, String text, int usagePromptTokens,
                           int usageCompletionTokens, String error, String errorDetail) { }

    private final ConnectionPool pool;
    private final URI uri;
    private final String model;
    private final Endpoint endpoint;
    private final String apiKey;
    private final Duration timeout;
    private final boolean ignoreEos;
    private final double temperature;
    private final ObjectNode extraBody;

    /**
     * @param timeout   whole-request limit (connect, headers and stream), Duration.ZERO for none
     * @param extraBody fields merged into every request body (server-specific parameters), or null
     */
    public StreamClient(String baseUrl, String model, Endpoint endpoint, String apiKey, Duration timeout, boolean ignoreEos,
                        double temperature, ObjectNode extraBody) {
        this(baseUrl, model, endpoint, apiKey, timeout, ignoreEos, temperature, extraBody, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** As above, with the TLS socket factory for https (tests bring their own trust). */
    StreamClient(String baseUrl, String model, Endpoint endpoint, String apiKey, Duration timeout, boolean ignoreEos,
                 double temperature, ObjectNode extraBody, SSLSocketFactory tls) {
        String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        if (base.endsWith("/v1")) base = base.substring(0, base.length() - 3); // accept the SDKs' .../v1 form too
        URI u;
        try {
            u = URI.create(base + endpoint.path());
        } catch (IllegalArgumentException e) {
            u = null;
        }
        if (u == null || u.getScheme() == null || !u.getScheme().matches("https?") || u.getHost() == null) {
            throw new IllegalArgumentException("--base-url must be an http(s) URL such as http://127.0.0.1:8000, got '" + baseUrl + "'");
        }
        this.uri = u;
        this.model = model;
        this.endpoint = endpoint;
        this.apiKey = apiKey == null ? "" : apiKey;
        this.timeout = timeout;
        this.ignoreEos = ignoreEos;
        this.temperature = temperature;
        this.extraBody = extraBody;
        this.pool = new ConnectionPool(uri, tls);
    }

    /** Connections opened so far (the rest of the requests reused one). */
    int connectionsOpened() { return pool.opened(); }

    /** Sends the prompt and reads the whole stream (blocking; call from a virtual thread). */
    public Exchange send(String prompt, int maxTokens) {
        ObjectNode body = endpoint.body(model, prompt, maxTokens, ignoreEos, temperature);
        if (extraBody != null) body.setAll(extraBody.deepCopy());
        byte[] request = request(body.toString().getBytes(StandardCharsets.UTF_8));
        Reader reader = new Reader();
        reader.start = System.nanoTime();
        long deadline = timeout.isZero() ? 0 : reader.start + timeout.toNanos();
        HttpConnection.Response response;
        try {
            response = pool.send(request, deadline);
        } catch (SocketTimeoutException e) {
            return reader.fail("timeout", "no response headers within " + timeout.toMillis() + " ms");
        } catch (ConnectException | UnknownHostException e) {
            return reader.fail("connection", "cannot connect to " + uri + ": " + message(e));
        } catch (IOException e) {
            return reader.fail("connection", message(e));
        }
        try (InputStream in = response.body()) {
            if (response.status() != 200) {
                byte[] head = in.readNBytes(4096);
                return reader.fail("http_" + response.status(), errorMessage(new String(head, StandardCharsets.UTF_8)));
            }
            try {
                reader.read(in);
            } catch (SocketTimeoutException e) {
                if (!reader.done) return reader.fail("timeout", "stream not finished within " + timeout.toMillis() + " ms");
            } catch (IOException e) {
                if (!reader.done) return reader.fail("connection", "stream broken: " + message(e));
            }
            if (reader.done) drain(response);
            return reader.finish();
        } catch (IOException e) {
            return reader.fail("connection", message(e));
        } finally {
            pool.release(response.connection()); // kept only if the body was read to its end
        }
    }

    /** The request head and body, written in one go. */
    private byte[] request(byte[] body) {
        StringBuilder h = new StringBuilder(256).append("POST ").append(uri.getRawPath());
        if (uri.getRawQuery() != null) h.append('?').append(uri.getRawQuery());
        h.append(" HTTP/1.1\r\nHost: ").append(pool.origin().hostHeader())
                .append("\r\nUser-Agent: basalt-bench\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n");
        if (!apiKey.isEmpty()) h.append("Authorization: Bearer ").append(apiKey).append("\r\n");
        h.append("Content-Length: ").append(body.length).append("\r\nConnection: keep-alive\r\n\r\n");
        byte[] head = h.toString().getBytes(StandardCharsets.UTF_8);
        byte[] all = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    /** Reads what follows [DONE] (the last chunk) so the connection can be reused; gives up quietly, leaving it to be closed. */
    private static void drain(HttpConnection.Response response) {
        response.connection().deadline(System.nanoTime() + DRAIN_NANOS);
        try {
            response.body().transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException ignored) {
            // the body did not end cleanly: the pool closes the connection instead of reusing it
        }
    }

    /** Splits the byte stream into SSE events and keeps what the measurement needs. */
    private final class Reader {
        long start;
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

    @Override
    public void close() {
        pool.close();
    }
}
