package io.basalt.bench.serve;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLSocketFactory;

/**
 * Keep-alive connections to one origin. A request takes the most recently used idle connection (or
 * opens one) and hands it back when its body has been read to the end. Servers close idle
 * connections whenever they like, so a reused connection that fails before any byte of the response
 * has arrived is replaced by a fresh one and the request sent once more; once the server has
 * answered anything, nothing is retried (the request may have run).
 */
final class ConnectionPool implements AutoCloseable {
    private static final int MAX_IDLE = 1024;

    private final HttpConnection.Origin origin;
    private final SSLSocketFactory tls;
    private final ReentrantLock lock = new ReentrantLock(); // not synchronized: callers are virtual threads
    private final Deque<HttpConnection> idle = new ArrayDeque<>();
    private final AtomicInteger opened = new AtomicInteger();
    private boolean closed;

    ConnectionPool(URI uri, SSLSocketFactory tls) {
        boolean https = uri.getScheme().equalsIgnoreCase("https");
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1); // IPv6 literal
        this.origin = new HttpConnection.Origin(https, host, uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80);
        this.tls = tls;
    }

    HttpConnection.Origin origin() { return origin; }

    /** Connections opened so far (reuse shows as fewer than requests). */
    int opened() { return opened.get(); }

    /** Sends a complete request (head and body) and returns the response head; {@link #release} its connection afterwards. */
    HttpConnection.Response send(byte[] request, long deadline) throws IOException {
        HttpConnection c = takeIdle();
        if (c != null) {
            try {
                return c.exchange(request, deadline);
            } catch (IOException e) {
                closeQuietly(c);
                // a timeout is not a stale connection, and a server that answered may have run the request
                if (e instanceof SocketTimeoutException || c.received() > 0) throw e;
            }
        }
        c = HttpConnection.open(origin, tls, deadline);
        opened.incrementAndGet();
        try {
            return c.exchange(request, deadline);
        } catch (IOException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    /** Keeps the connection for the next request when its response was read to the end, else closes it. */
    void release(HttpConnection c) {
        lock.lock();
        try {
            if (!closed && c.reusable() && idle.size() < MAX_IDLE) {
                idle.push(c);
                return;
            }
        } finally {
            lock.unlock();
        }
        closeQuietly(c);
    }

    private HttpConnection takeIdle() {
        lock.lock();
        try {
            return idle.poll();
        } finally {
            lock.unlock();
        }
    }

    private static void closeQuietly(HttpConnection c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing a connection nobody will use again
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            idle.forEach(ConnectionPool::closeQuietly);
            idle.clear();
        } finally {
            lock.unlock();
        }
    }
}
