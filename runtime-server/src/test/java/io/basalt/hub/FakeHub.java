package io.basalt.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for huggingface.co on 127.0.0.1: the model-info API, {@code resolve} URLs that
 * answer small files directly and redirect LFS files (with {@code X-Linked-Size} and
 * {@code X-Linked-Etag}) to a second "CDN" server that honours {@code Range}. Faults can be
 * injected: a connection cut after N bytes, a corrupted body, a required token.
 */
final class FakeHub implements AutoCloseable {
    static final long LFS_THRESHOLD = 10_000;

    /** One request as the fake saw it. */
    record Seen(String server, String path, String authorization, String range) { }

    record Repo(String sha, Map<String, byte[]> files) { }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    /** file name → bytes after which the next download of it is cut (once). */
    final Map<String, Long> cutOnce = new ConcurrentHashMap<>();
    /** file names whose bodies are served with one byte flipped (the announced sha256 stays right). */
    final List<String> corrupt = new CopyOnWriteArrayList<>();
    volatile String requiredToken;
    final AtomicInteger cuts = new AtomicInteger();

    FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.setExecutor(pool);
        cdn.setExecutor(pool);
        hub.createContext("/", this::handleHub);
        cdn.createContext("/", this::handleCdn);
        hub.start();
        cdn.start();
    }

    URI endpoint() { return URI.create("http://127.0.0.1:" + hub.getAddress().getPort()); }

    void addRepo(String id, String sha, Map<String, byte[]> files) {
        repos.put(id, new Repo(sha, new LinkedHashMap<>(files)));
        for (byte[] b : files.values()) blobs.put(sha256(b), b);
    }

    int requestCount() { return seen.size(); }

    List<Seen> requestsFor(String pathSuffix) {
        List<Seen> out = new ArrayList<>();
        for (Seen s : seen) if (s.path().endsWith(pathSuffix)) out.add(s);
        return out;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Pattern API = Pattern.compile("/api/models/([^/]+/[^/]+)/revision/([^/]+)");
    private static final Pattern RESOLVE = Pattern.compile("/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");

    private void record(String server, HttpExchange ex) {
        seen.add(new Seen(server, ex.getRequestURI().getRawPath(), ex.getRequestHeaders().getFirst("Authorization"),
                ex.getRequestHeaders().getFirst("Range")));
    }

    private boolean authorized(HttpExchange ex) throws IOException {
        String token = requiredToken;
        if (token == null || ("Bearer " + token).equals(ex.getRequestHeaders().getFirst("Authorization"))) return true;
        send(ex, 401, "{\"error\":\"Access to model is restricted\"}");
        return false;
    }

    private void handleHub(HttpExchange ex) throws IOException {
        try (ex) {
            record("hub", ex);
            String path = ex.getRequestURI().getPath();
            Matcher m = API.matcher(path);
            if (m.matches()) {
                if (!authorized(ex)) return;
                Repo repo = repos.get(m.group(1));
                if (repo == null) {
                    send(ex, 404, "{\"error\":\"Repository not found\"}");
                    return;
                }
                Map<String, Object> info = new LinkedHashMap<>();
                info.put("id", m.group(1));
                info.put("sha", repo.sha());
                List<Map<String, String>> siblings = new ArrayList<>();
                for (String f : repo.files().keySet()) siblings.add(Map.of("rfilename", f));
                info.put("siblings", siblings);
                send(ex, 200, new ObjectMapper().writeValueAsString(info));
                return;
            }
            m = RESOLVE.matcher(path);
            if (m.matches()) {
                if (!authorized(ex)) return;
                Repo repo = repos.get(m.group(1));
                byte[] body = repo == null ? null : repo.files().get(m.group(3));
                if (body == null) {
                    send(ex, 404, "Entry not found");
                    return;
                }
                if (body.length >= LFS_THRESHOLD) {
                    // LFS: the Hub answers 302 to the CDN, announcing size and sha256.
                    String sha = sha256(body);
                    ex.getResponseHeaders().add("X-Linked-Size", Long.toString(body.length));
                    ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha + "\"");
                    ex.getResponseHeaders().add("ETag", "\"" + sha + "\"");
                    ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + sha
                            + "?file=" + m.group(3));
                    ex.sendResponseHeaders(302, -1);
                    return;
                }
                // A small (git) file: served directly, its ETag a git-style sha1, not a sha256.
                ex.getResponseHeaders().add("ETag", "\"" + sha256(body).substring(0, 40) + "\"");
                serveBytes(ex, m.group(3), body);
                return;
            }
            send(ex, 404, "not found");
        }
    }

    private void handleCdn(HttpExchange ex) throws IOException {
        try (ex) {
            record("cdn", ex);
            String path = ex.getRequestURI().getPath();
            byte[] body = path.startsWith("/blobs/") ? blobs.get(path.substring("/blobs/".length())) : null;
            if (body == null) {
                send(ex, 404, "no such blob");
                return;
            }
            String query = ex.getRequestURI().getQuery();
            String file = query != null && query.startsWith("file=") ? query.substring(5) : path;
            ex.getResponseHeaders().add("ETag", "\"" + sha256(body) + "\"");
            serveBytes(ex, file, body);
        }
    }

    /** Serves bytes, honouring {@code Range: bytes=N-} and the injected faults. */
    private void serveBytes(HttpExchange ex, String file, byte[] body) throws IOException {
        if (corrupt.contains(file)) {
            body = body.clone();
            body[body.length / 2] ^= 0x5a;
        }
        int start = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            start = Integer.parseInt(range.substring(6, range.length() - 1));
            if (start >= body.length) {
                ex.getResponseHeaders().add("Content-Range", "bytes */" + body.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + (body.length - 1) + "/" + body.length);
        }
        int len = body.length - start;
        ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
        ex.sendResponseHeaders(start > 0 ? 206 : 200, len);
        Long cut = cutOnce.remove(file);
        OutputStream out = ex.getResponseBody();
        if (cut != null && cut < len) {
            out.write(body, start, (int) (long) cut);
            out.flush();
            cuts.incrementAndGet();
            // Fewer bytes than Content-Length, then the connection goes away.
            closeAbruptly(ex);
            return;
        }
        out.write(body, start, len);
    }

    private static void closeAbruptly(HttpExchange ex) {
        try {
            ex.close(); // the fixed-length stream notices the missing bytes and drops the connection
        } catch (RuntimeException ignored) {
            // expected: "insufficient bytes written to stream"
        }
    }

    private static void send(HttpExchange ex, int status, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", text.startsWith("{") ? "application/json" : "text/plain");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        pool.shutdownNow();
    }
}
