package io.basalt.bench.serve;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 server at the byte level, for testing the client's HTTP layer: it reads each request
 * (head and Content-Length body) on a keep-alive connection and lets the test write whatever bytes
 * it likes as the answer, or close the connection. Counts connections and requests.
 */
final class RawHttpServer implements AutoCloseable {
    /** One request as received: the head's lines (request line first) and the body. */
    record Request(List<String> head, String body, Socket socket) {
        String header(String name) {
            String prefix = name.toLowerCase(Locale.ROOT) + ":";
            return head.stream().filter(h -> h.toLowerCase(Locale.ROOT).startsWith(prefix)).map(h -> h.substring(prefix.length()).trim())
                    .findFirst().orElse(null);
        }
    }

    /** Writes the response to the n-th request (0-based, over all connections); may close the socket. */
    interface Handler {
        void respond(int n, Request request, OutputStream out) throws Exception;
    }

    private final ServerSocket server;
    private final Handler handler;
    final AtomicInteger connections = new AtomicInteger(), requests = new AtomicInteger();
    final List<Request> received = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    RawHttpServer(Handler handler) throws IOException {
        this(new ServerSocket(0, 64, InetAddress.getLoopbackAddress()), handler);
    }

    /** On a given (e.g. TLS) listening socket. */
    RawHttpServer(ServerSocket server, Handler handler) {
        this.server = server;
        this.handler = handler;
        Thread.ofVirtual().start(this::accept);
    }

    int port() { return server.getLocalPort(); }

    String baseUrl() { return "http://127.0.0.1:" + port(); }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                s.setTcpNoDelay(true); // each write its own segment: the client sees the pieces the test wrote
                connections.incrementAndGet();
                open.add(s);
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (!s.isClosed()) {
                List<String> head = new ArrayList<>();
                for (String l; (l = line(in)) != null && !l.isEmpty(); ) head.add(l);
                if (head.isEmpty()) return; // the client closed the connection
                Request r = new Request(head, "", s);
                String cl = r.header("content-length");
                byte[] body = in.readNBytes(cl == null ? 0 : Integer.parseInt(cl));
                r = new Request(head, new String(body, StandardCharsets.UTF_8), s);
                received.add(r);
                handler.respond(requests.getAndIncrement(), r, out);
                out.flush();
            }
        } catch (Exception e) {
            // the test decides what a dropped connection means
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') return b.toString(StandardCharsets.ISO_8859_1).replaceAll("\r$", "");
            b.write(c);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) s.close();
    }
}
