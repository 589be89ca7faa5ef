package io.basalt.bench.serve;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 client connection, used by one thread for one request at a time: the request goes out
 * in a single write, and every read of the response is a direct read of the socket, so a body read
 * returns the moment the bytes arrive (no reader thread or queue in between, which is what the
 * load generator's timestamps need). Bodies framed by chunked encoding (extensions and trailers
 * ignored), Content-Length or the end of the connection.
 *
 * <p>Timeouts: every blocking read gets the time left until the request's deadline as its socket
 * timeout, so a stalled server ends in a {@link SocketTimeoutException} at the deadline.
 */
final class HttpConnection implements Closeable {
    static final int CONNECT_TIMEOUT_MS = 10_000;
    private static final int MAX_LINE = 16 * 1024, MAX_HEAD = 256 * 1024;

    /** Where requests go: scheme, host (without IPv6 brackets) and port. */
    record Origin(boolean tls, String host, int port) {
        /** The Host header: the port only when it is not the scheme's default. */
        String hostHeader() {
            String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            return port == (tls ? 443 : 80) ? h : h + ":" + port;
        }
    }

    /** A response head and its body; close the body or hand the connection back to the pool when done. */
    record Response(int status, Map<String, String> headers, InputStream body, HttpConnection connection) { }

    private enum Framing { CHUNKED, LENGTH, UNTIL_CLOSE }

    private enum ChunkState { SIZE, DATA, DATA_END, TRAILER }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buf = new byte[16 * 1024];
    private int pos, lim;
    private long deadline; // System.nanoTime; 0 for none
    private long received; // response bytes read since the request was written
    private boolean keepAlive; // the server did not ask to close and the last body ended cleanly

    private HttpConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects (TLS with SNI and host name verification for https) within the deadline. */
    static HttpConnection open(Origin origin, SSLSocketFactory tlsFactory, long deadline) throws IOException {
        Socket raw = new Socket();
        try {
            raw.setTcpNoDelay(true); // the request is one write; no reason to wait for an ACK
            int connectMs = deadline == 0 ? CONNECT_TIMEOUT_MS : (int) Math.max(1, Math.min(CONNECT_TIMEOUT_MS, msLeft(deadline)));
            try {
                raw.connect(new InetSocketAddress(origin.host(), origin.port()), connectMs);
                if (!origin.tls()) return new HttpConnection(raw);
                SSLSocket s = (SSLSocket) tlsFactory.createSocket(raw, origin.host(), origin.port(), true);
                SSLParameters p = s.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
                if (!isIpLiteral(origin.host())) p.setServerNames(List.of(new SNIHostName(origin.host())));
                s.setSSLParameters(p);
                s.setSoTimeout(connectMs);
                s.startHandshake();
                return new HttpConnection(s);
            } catch (SocketTimeoutException e) {
                if (deadline != 0 && System.nanoTime() - deadline >= 0) throw e; // the request's own limit: a timeout
                throw new ConnectException("connect timed out after " + connectMs + " ms");
            }
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || host.matches("[0-9.]+");
    }

    /** Response bytes read since the last request went out (0: the server has not answered at all). */
    long received() { return received; }

    /** Whether another request may follow: the last body was read to its end and the server keeps the connection. */
    boolean reusable() { return keepAlive && !socket.isClosed(); }

    /** Limits every later read to this System.nanoTime (0 for none). */
    void deadline(long nanos) { deadline = nanos; }

    /** Writes the request and reads the response head (1xx responses skipped). */
    Response exchange(byte[] request, long deadline) throws IOException {
        this.deadline = deadline;
        keepAlive = false;
        received = 0;
        out.write(request);
        out.flush();
        while (true) {
            String statusLine = line(true);
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) throw new IOException("not an HTTP response: " + abbreviate(statusLine));
            int status;
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IOException("bad status line: " + abbreviate(statusLine));
            }
            Map<String, String> headers = new LinkedHashMap<>();
            int headBytes = statusLine.length();
            for (String h; !(h = line(true)).isEmpty(); ) {
                headBytes += h.length();
                if (headBytes > MAX_HEAD) throw new IOException("response head longer than " + MAX_HEAD + " bytes");
                int colon = h.indexOf(':');
                if (colon <= 0) throw new IOException("bad header line: " + abbreviate(h));
                headers.merge(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim(), (a, b) -> a + ", " + b);
            }
            if (status >= 100 && status < 200) continue; // 100 Continue, 103 Early Hints: the real answer follows
            return new Response(status, headers, body(parts[0], status, headers), this);
        }
    }

    private InputStream body(String version, int status, Map<String, String> headers) throws IOException {
        String connection = headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT);
        boolean serverKeeps = version.equals("HTTP/1.0") ? connection.contains("keep-alive") : !connection.contains("close");
        String te = headers.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT);
        if (status == 204 || status == 304) return new Body(Framing.LENGTH, 0, serverKeeps);
        if (!te.isEmpty()) {
            // chunked must be the last coding; anything else is delimited by the end of the connection
            return te.endsWith("chunked") ? new Body(Framing.CHUNKED, 0, serverKeeps) : new Body(Framing.UNTIL_CLOSE, 0, false);
        }
        String cl = headers.get("content-length");
        if (cl == null) return new Body(Framing.UNTIL_CLOSE, 0, false);
        try {
            long n = Long.parseLong(cl.split(",")[0].trim());
            if (n < 0) throw new NumberFormatException();
            return new Body(Framing.LENGTH, n, serverKeeps);
        } catch (NumberFormatException e) {
            throw new IOException("bad Content-Length: " + abbreviate(cl));
        }
    }

    /** The response body: each read returns what one socket read brought, never waiting for more once it has bytes. */
    private final class Body extends InputStream {
        private final Framing framing;
        private final boolean serverKeeps;
        private long left; // bytes left in the body (LENGTH) or the current chunk (CHUNKED)
        private ChunkState state = ChunkState.SIZE;
        private boolean ended;

        Body(Framing framing, long length, boolean serverKeeps) {
            this.framing = framing;
            this.left = length;
            this.serverKeeps = serverKeeps;
            if (framing == Framing.LENGTH && length == 0) end();
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            int copied = 0;
            while (copied < len && !ended) {
                boolean block = copied == 0; // with bytes in hand, return them rather than wait for more
                if (framing == Framing.CHUNKED && state != ChunkState.DATA) {
                    String l = line(block);
                    if (l == null) break;
                    chunkLine(l);
                    continue;
                }
                if (pos == lim) {
                    if (!block) break;
                    if (fill() < 0) {
                        if (framing == Framing.UNTIL_CLOSE) {
                            ended = true;
                            break;
                        }
                        throw new EOFException("the server closed the connection in the middle of the body");
                    }
                }
                int n = lim - pos;
                n = Math.min(n, len - copied);
                if (framing != Framing.UNTIL_CLOSE) n = (int) Math.min(n, left);
                System.arraycopy(buf, pos, b, off + copied, n);
                pos += n;
                copied += n;
                if (framing == Framing.UNTIL_CLOSE) continue;
                left -= n;
                if (left == 0) {
                    if (framing == Framing.LENGTH) end();
                    else state = ChunkState.DATA_END;
                }
            }
            return copied == 0 && ended ? -1 : copied;
        }

        /** One line of chunked framing: a size (extensions after ';' ignored), the CRLF after data, or a trailer. */
        private void chunkLine(String l) throws IOException {
            switch (state) {
                case SIZE -> {
                    int semi = l.indexOf(';');
                    String hex = (semi >= 0 ? l.substring(0, semi) : l).trim();
                    try {
                        left = Long.parseLong(hex, 16);
                    } catch (NumberFormatException e) {
                        throw new IOException("bad chunk size: " + abbreviate(l));
                    }
                    if (left < 0) throw new IOException("bad chunk size: " + abbreviate(l));
                    state = left == 0 ? ChunkState.TRAILER : ChunkState.DATA;
                }
                case DATA_END -> {
                    if (!l.isEmpty()) throw new IOException("chunk data longer than its size");
                    state = ChunkState.SIZE;
                }
                case TRAILER -> {
                    if (l.isEmpty()) end(); // trailer fields themselves are of no use here
                }
                case DATA -> throw new IllegalStateException();
            }
        }

        private void end() {
            ended = true;
            keepAlive = serverKeeps && pos == lim; // bytes past the end would be a protocol error: do not reuse
        }

        @Override
        public int available() {
            if (ended) return 0;
            if (framing == Framing.UNTIL_CLOSE) return lim - pos;
            return framing == Framing.LENGTH || state == ChunkState.DATA ? (int) Math.min(lim - pos, left) : 0;
        }
    }

    /**
     * The next line (CRLF or LF; the terminator dropped), or null when it is not complete in the
     * buffer and {@code block} is false. Headers are ISO-8859-1 by the RFC.
     */
    private String line(boolean block) throws IOException {
        int scanned = pos;
        while (true) {
            for (int i = scanned; i < lim; i++) {
                if (buf[i] == '\n') {
                    int end = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
                    String l = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
                    pos = i + 1;
                    return l;
                }
            }
            if (!block) return null;
            if (lim - pos >= MAX_LINE) throw new IOException("response line longer than " + MAX_LINE + " bytes");
            scanned = lim - pos;
            if (fill() < 0) {
                throw new EOFException(received == 0 ? "the server closed the connection without a response"
                        : "the server closed the connection in the middle of the response");
            }
            scanned += pos;
        }
    }

    /** One socket read appended to the buffer (compacted first); -1 at the end of the stream. */
    private int fill() throws IOException {
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        while (true) {
            setReadTimeout();
            try {
                int n = in.read(buf, lim, buf.length - lim);
                if (n > 0) {
                    lim += n;
                    received += n;
                }
                return n;
            } catch (SocketTimeoutException e) {
                if (deadline == 0 || System.nanoTime() - deadline >= 0) throw e;
                // woke a little before the deadline: wait out the rest
            }
        }
    }

    private void setReadTimeout() throws IOException {
        if (deadline == 0) {
            socket.setSoTimeout(0);
            return;
        }
        long ms = msLeft(deadline);
        if (ms <= 0) throw new SocketTimeoutException("deadline passed");
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, ms));
    }

    /** Milliseconds until the deadline, rounded up (so a timeout never fires before it). */
    private static long msLeft(long deadline) {
        long nanos = deadline - System.nanoTime();
        return nanos <= 0 ? 0 : (nanos + 999_999) / 1_000_000;
    }

    private static String abbreviate(String s) { return s.length() <= 120 ? s : s.substring(0, 120) + "..."; }

    @Override
    public void close() throws IOException {
        keepAlive = false;
        socket.close();
    }
}
