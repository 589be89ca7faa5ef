package io.basalt.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Hub's HTTP side: GET with the token (sent to the endpoint's host only, never to the CDN a
 * download is redirected to), redirects followed by hand so that the Hub's {@code X-Linked-*}
 * headers survive them, and retries with a doubling pause for failures worth another try (a cut
 * connection, a 5xx or 429, a timeout).
 */
final class HubHttp {
    private static final int MAX_REDIRECTS = 8;

    /** A failure worth another try. */
    static final class Retryable extends IOException {
        Retryable(String message) { super(message); }
    }

    /** One try of a request; {@link IOException}s other than a refusal are retried. */
    interface Attempt<T> {
        T run() throws IOException, InterruptedException;
    }

    /** One response after following redirects, with the Hub's X-Linked-* headers kept from the hop that had them. */
    record Fetched<T>(HttpResponse<T> response, long linkedSize, String linkedEtag) { }

    private final HfHub.Config config;
    private final HttpClient http;
    private final AtomicInteger requests = new AtomicInteger();

    HubHttp(HfHub.Config config) {
        this.config = config;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(15)).build();
    }

    /** HTTP requests sent so far. */
    int requestCount() { return requests.get(); }

    /** Runs {@code attempt} up to {@link HfHub.Config#maxAttempts} times; {@code what} names it in notes and errors. */
    <T> T withRetries(String what, Attempt<T> attempt) {
        long delay = config.retryDelay().toMillis();
        for (int i = 1; ; i++) {
            try {
                return attempt.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(what + " was interrupted");
            } catch (IOException e) {
                String msg = describe(e);
                if (i >= config.maxAttempts()) {
                    throw new HubException(what + " failed after " + i + (i == 1 ? " try" : " tries") + ": " + msg
                            + (e instanceof ConnectException ? " (is " + config.endpoint() + " reachable? set HF_ENDPOINT, "
                            + "or use --offline with a cached model, or pass a local path)" : ""), e);
                }
                if (config.progress() != null) {
                    config.progress().println("basalt: " + what + ": " + msg + "; retrying (" + (i + 1) + "/" + config.maxAttempts() + ")");
                }
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new HubException(what + " was interrupted");
                }
                delay = Math.min(delay * 2, 30_000);
            }
        }
    }

    static String describe(IOException e) {
        if (e instanceof HttpTimeoutException) return "timed out";
        if (e instanceof ConnectException) return "cannot connect" + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")");
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private boolean sameHostAsEndpoint(URI uri) {
        URI e = config.endpoint();
        return e.getHost() != null && e.getHost().equalsIgnoreCase(uri.getHost()) && e.getPort() == uri.getPort()
                && e.getScheme().equalsIgnoreCase(uri.getScheme());
    }

    <T> HttpResponse<T> send(URI uri, HttpResponse.BodyHandler<T> handler) throws IOException, InterruptedException {
        return sendFollowing(uri, null, handler).response();
    }

    /**
     * GET {@code uri} (with {@code range}, a {@code Range} header value, unless null), following
     * redirects; a 5xx or 429 is {@link Retryable}.
     */
    <T> Fetched<T> sendFollowing(URI uri, String range, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        long linkedSize = -1;
        String linkedEtag = null;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET()
                    .header("User-Agent", "basalt/0.1.0; java/" + Runtime.version().feature());
            if (!config.token().isEmpty() && sameHostAsEndpoint(uri)) b.header("Authorization", "Bearer " + config.token());
            if (range != null) b.header("Range", range);
            requests.incrementAndGet();
            HttpResponse<T> r;
            try {
                r = http.send(b.build(), handler);
            } catch (ConnectException e) {
                throw e;
            } catch (IOException e) {
                throw new Retryable(describe(e));
            }
            HttpHeaders h = r.headers();
            if (linkedSize < 0) linkedSize = h.firstValueAsLong("X-Linked-Size").orElse(-1);
            if (linkedEtag == null) linkedEtag = h.firstValue("X-Linked-Etag").orElse(null);
            int status = r.statusCode();
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                closeBody(r);
                String location = h.firstValue("Location").orElseThrow(() -> new Retryable("HTTP " + status + " without Location"));
                if (hop >= MAX_REDIRECTS) throw new IOException("too many redirects from " + uri);
                uri = uri.resolve(location);
                continue;
            }
            if (status == 429 || status >= 500) {
                closeBody(r);
                throw new Retryable("HTTP " + status + " from " + uri.getHost());
            }
            return new Fetched<>(r, linkedSize, linkedEtag);
        }
    }

    private static void closeBody(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the connection is discarded either way
            }
        }
    }
}
