package io.basalt.bench.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator's own HTTP/1.1 client ({@link HttpConnection}, {@link ConnectionPool}, and
 * {@link StreamClient} on top) against a byte-level server: every body framing, keep-alive reuse and
 * its limits, error statuses, timeouts, responses split at awkward places, and TLS.
 */
class HttpLayerTest {
    private static final String OK_HEAD = "HTTP/1.1 200 OK\r\n";

    @Test
    void chunkedBodyWithExtensionsAndTrailersThenReuse() throws Exception {
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> write(out, OK_HEAD + "Transfer-Encoding: chunked\r\n\r\n"
                + "5;name=\"v\"\r\nhello\r\n7 ; x=1\r\n, world\r\n" + "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"));
             ConnectionPool pool = pool(server)) {
            assertEquals("hello, world", post(pool, "a"));
            assertEquals("hello, world", post(pool, "b"));
            assertEquals(1, pool.opened(), "the trailers were read, so the connection was clean for the next request");
            assertEquals(1, server.connections.get());
            assertEquals("b", server.received.get(1).body());
            assertEquals("keep-alive", server.received.get(0).header("Connection"));
            assertEquals("127.0.0.1:" + server.port(), server.received.get(0).header("Host"));
        }
    }

    @Test
    void contentLengthBodiesShareOneConnection() throws Exception {
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> {
                String body = "reply " + n + " to " + r.body();
                write(out, OK_HEAD + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            });
             ConnectionPool pool = pool(server)) {
            for (int i = 0; i < 5; i++) assertEquals("reply " + i + " to q" + i, post(pool, "q" + i));
            assertEquals(1, pool.opened());
            assertEquals(1, server.connections.get());
            assertEquals(5, server.requests.get());
        }
    }

    @Test
    void closeDelimitedBodyIsReadToTheEndAndItsConnectionNotReused() throws Exception {
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> {
                write(out, OK_HEAD + "Content-Type: text/plain\r\n\r\nuntil ");
                write(out, "the end");
                r.socket().close();
            });
             ConnectionPool pool = pool(server)) {
            assertEquals("until the end", post(pool, "a"));
            assertEquals("until the end", post(pool, "b"));
            assertEquals(2, pool.opened());
            assertEquals(2, server.connections.get());
        }
    }

    @Test
    void connectionCloseHeaderIsHonoured() throws Exception {
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> write(out, OK_HEAD + "Connection: close\r\nContent-Length: 2\r\n\r\nok"));
             ConnectionPool pool = pool(server)) {
            assertEquals("ok", post(pool, "a"));
            assertEquals("ok", post(pool, "b"));
            assertEquals(2, pool.opened());
        }
    }

    /** The server drops an idle keep-alive connection: the next request fails on it before any response byte and goes out once more. */
    @Test
    void idleConnectionClosedByTheServerIsReplacedOnce() throws Exception {
        CountDownLatch dropped = new CountDownLatch(1);
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> {
                write(out, OK_HEAD + "Content-Length: 1\r\n\r\n" + n);
                if (n == 0) {
                    r.socket().close(); // no Connection: close header: the client only finds out on its next request
                    dropped.countDown();
                }
            });
             ConnectionPool pool = pool(server)) {
            assertEquals("0", post(pool, "a"));
            assertTrue(dropped.await(5, TimeUnit.SECONDS));
            assertEquals("1", post(pool, "b"));
            assertEquals(2, pool.opened());
            assertEquals(2, server.requests.get(), "the stale connection's attempt never reached the server as a request");
            assertEquals("2", post(pool, "c"), "the fresh connection is pooled in turn");
            assertEquals(2, pool.opened());
        }
    }

    /** Once the server has answered anything, a failure is the request's, never retried (it may have run). */
    @Test
    void noRetryAfterResponseBytesArrived() throws Exception {
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> {
                if (n == 0) {
                    write(out, OK_HEAD + "Content-Length: 2\r\n\r\nok");
                } else {
                    write(out, OK_HEAD + "Content-Le");
                    r.socket().close();
                }
            });
             ConnectionPool pool = pool(server)) {
            assertEquals("ok", post(pool, "a"));
            IOException e = assertThrows(IOException.class, () -> post(pool, "b"));
            assertTrue(e.getMessage().contains("middle of the response"), e.getMessage());
            assertEquals(2, server.requests.get());
            assertEquals(1, server.connections.get());
        }
    }

    @Test
    void errorStatusesKeepTheServersMessageAndTheConnection() throws Exception {
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> {
                if (n == 0) {
                    String err = "{\"error\":{\"message\":\"model 'x' not found\",\"type\":\"invalid_request_error\"}}";
                    write(out, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " + err.length() + "\r\n\r\n" + err);
                } else {
                    write(out, "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n9\r\noverloade\r\n2\r\nd\n\r\n0\r\n\r\n");
                }
            });
             StreamClient client = new StreamClient(server.baseUrl(), "m", Endpoint.COMPLETIONS, "k3y", Duration.ofSeconds(10), false, 0, null)) {
            StreamClient.Exchange a = client.send("p", 4), b = client.send("p", 4);
            assertEquals("http_404", a.error());
            assertEquals("model 'x' not found", a.errorDetail());
            assertEquals("http_503", b.error());
            assertEquals("overloaded", b.errorDetail());
            assertEquals(1, client.connectionsOpened(), "error bodies are read to their end and the connection kept");
            assertEquals("Bearer k3y", server.received.getFirst().header("Authorization"));
            assertTrue(server.received.getFirst().head().getFirst().startsWith("POST /v1/completions HTTP/1.1"));
        }
    }

    @Test
    void serverThatNeverAnswersIsATimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> release.await());
             StreamClient client = new StreamClient(server.baseUrl(), "m", Endpoint.COMPLETIONS, "", Duration.ofMillis(300), false, 0, null)) {
            StreamClient.Exchange x = client.send("p", 4);
            assertEquals("timeout", x.error(), x.errorDetail());
            assertTrue(x.errorDetail().contains("no response headers"), x.errorDetail());
            assertTrue(x.endNanos() - x.startNanos() >= 300_000_000L, "not declared before the deadline");
        } finally {
            release.countDown();
        }
    }

    @Test
    void streamThatStallsIsATimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> {
                write(out, OK_HEAD + "Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
                chunk(out, sse(token(0)));
                release.await();
            });
             StreamClient client = new StreamClient(server.baseUrl(), "m", Endpoint.COMPLETIONS, "", Duration.ofMillis(300), false, 0, null)) {
            StreamClient.Exchange x = client.send("p", 4);
            assertEquals("timeout", x.error(), x.errorDetail());
            assertTrue(x.errorDetail().contains("stream not finished"), x.errorDetail());
            assertEquals(1, x.chunkNanos().length, "the token before the stall was counted");
            assertTrue(x.endNanos() - x.startNanos() >= 300_000_000L);
        } finally {
            release.countDown();
        }
    }

    /**
     * The whole response dribbled out in 1–7 byte writes: status line, headers, chunk sizes, CRLFs and
     * SSE lines all split across reads. The stream must parse exactly as if sent whole, twice on one connection.
     */
    @Test
    void responseSplitAcrossManyReads() throws Exception {
        StringBuilder sse = new StringBuilder();
        for (int k = 0; k < 4; k++) sse.append(sse(token(k)));
        sse.append(sse("{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}")).append(sse("[DONE]"));
        StringBuilder chunked = new StringBuilder(OK_HEAD + "Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
        String events = sse.toString();
        for (int at = 0; at < events.length(); ) { // uneven chunks that do not follow event boundaries
            int n = Math.min(events.length() - at, 11 + at % 17);
            chunked.append(Integer.toHexString(n)).append("\r\n").append(events, at, at + n).append("\r\n");
            at += n;
        }
        chunked.append("0\r\n\r\n");
        byte[] bytes = chunked.toString().getBytes(StandardCharsets.UTF_8);
        try (RawHttpServer server = new RawHttpServer((n, r, out) -> {
                for (int at = 0, step = 1; at < bytes.length; at += step, step = step % 7 + 1) {
                    out.write(bytes, at, Math.min(step, bytes.length - at));
                    out.flush();
                    if (at % 5 == 0) Thread.sleep(1); // let some pieces arrive as separate reads
                }
            });
             StreamClient client = new StreamClient(server.baseUrl(), "m", Endpoint.COMPLETIONS, "", Duration.ofSeconds(20), false, 0, null)) {
            for (int i = 0; i < 2; i++) {
                StreamClient.Exchange x = client.send("p", 4);
                assertNull(x.error(), x.errorDetail());
                assertEquals("t0 t1 t2 t3 ", x.text());
                assertEquals(4, x.chunkNanos().length);
                assertEquals(3, x.usagePromptTokens());
                assertEquals(4, x.usageCompletionTokens());
                for (int k = 1; k < 4; k++) assertTrue(x.chunkNanos()[k] >= x.chunkNanos()[k - 1]);
            }
            assertEquals(1, client.connectionsOpened());
        }
    }

    /**
     * https: a local TLS server with a throwaway certificate for "localhost" (keytool, in the test's
     * own JDK). The client sends SNI and checks the certificate's name: https://localhost works, the
     * same server as https://127.0.0.1 (not in the certificate) is refused as a connection error.
     */
    @Test
    void tlsSendsSniAndVerifiesTheHostName(@TempDir Path dir) throws Exception {
        Path ks = dir.resolve("ks.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "s", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "secret", "-keypass", "secret")
                .redirectErrorStream(true).start();
        String log = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, keytool.waitFor(), log);
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(ks)) { store.load(in, "secret".toCharArray()); }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "secret".toCharArray());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        List<String> sni = new CopyOnWriteArrayList<>();
        ServerSocket listening = ctx.getServerSocketFactory().createServerSocket(0, 16, InetAddress.getLoopbackAddress());
        try (RawHttpServer server = new RawHttpServer(listening, (n, r, out) -> {
                ((ExtendedSSLSession) ((SSLSocket) r.socket()).getSession()).getRequestedServerNames()
                        .forEach(name -> sni.add(((SNIHostName) name).getAsciiName()));
                write(out, OK_HEAD + "Transfer-Encoding: chunked\r\n\r\n");
                chunk(out, sse(token(0)) + sse("[DONE]"));
                write(out, "0\r\n\r\n");
            });
             StreamClient good = new StreamClient("https://localhost:" + server.port(), "m", Endpoint.COMPLETIONS, "", Duration.ofSeconds(20),
                     false, 0, null, ctx.getSocketFactory());
             StreamClient byIp = new StreamClient("https://127.0.0.1:" + server.port(), "m", Endpoint.COMPLETIONS, "", Duration.ofSeconds(20),
                     false, 0, null, ctx.getSocketFactory())) {
            StreamClient.Exchange x = good.send("p", 1);
            assertNull(x.error(), x.errorDetail());
            assertEquals("t0 ", x.text());
            assertEquals(List.of("localhost"), sni);
            StreamClient.Exchange refused = byIp.send("p", 1);
            assertEquals("connection", refused.error(), refused.errorDetail());
            assertEquals(1, server.requests.get(), "no request went over the unverified connection");
        }
    }

    private static String token(int k) {
        return "{\"choices\":[{\"index\":0,\"text\":\"t" + k + " \",\"finish_reason\":null}]}";
    }

    private static String sse(String data) { return "data: " + data + "\n\n"; }

    private static void chunk(OutputStream out, String data) throws IOException {
        write(out, Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + data + "\r\n");
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static ConnectionPool pool(RawHttpServer server) {
        return new ConnectionPool(URI.create(server.baseUrl() + "/x"), (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** One POST through the pool, the body read to its end, the connection handed back. */
    static String post(ConnectionPool pool, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        byte[] req = ("POST /x HTTP/1.1\r\nHost: " + pool.origin().hostHeader() + "\r\nContent-Length: " + b.length
                + "\r\nConnection: keep-alive\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
        HttpConnection.Response r = pool.send(req, System.nanoTime() + 10_000_000_000L);
        try {
            assertEquals(200, r.status());
            return new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            pool.release(r.connection());
        }
    }
}
