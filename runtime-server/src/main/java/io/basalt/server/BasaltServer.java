package io.basalt.server;

import io.basalt.backend.Backends;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.layout.LoadOptions;
import io.basalt.model.layout.ModelInfo;
import io.basalt.server.grpc.GrpcServer;
import io.basalt.server.http.HttpServer;
import io.basalt.spi.Backend;
import io.basalt.spi.ModelRunner;
import io.basalt.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One served model behind the OpenAI HTTP server and (unless {@code grpcPort == -1}) the gRPC
 * server: loads the model on a backend, starts the engine, builds {@link ServedModel},
 * {@link ServerMetrics} and the {@link InferenceService} both transports share.
 *
 * <p>Shutdown ({@link #shutdown}, or SIGTERM/SIGINT once {@link ShutdownSignals#install} ran):
 * new requests are refused ({@link InferenceService#drain()}), both transports stop accepting and
 * give the requests in flight up to the grace period to finish, then the engine stops (aborting
 * whatever is left) and the model is unloaded.
 */
public final class BasaltServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("basalt.server");

    private enum State { RUNNING, STOPPING, STOPPED }

    private final ServeSettings settings;
    private final Backend backend;
    private final ServedModel model;
    private final InferenceService service;
    private final HttpServer http;
    private final GrpcServer grpc;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private State state = State.RUNNING;

    private BasaltServer(ServeSettings settings, Backend backend, ServedModel model, InferenceService service, HttpServer http,
                         GrpcServer grpc) {
        this.settings = settings;
        this.backend = backend;
        this.model = model;
        this.service = service;
        this.http = http;
        this.grpc = grpc;
    }

    /** Loads the model, starts the engine and both servers; everything started is stopped again on failure. */
    public static BasaltServer start(ServeSettings s) {
        List<AutoCloseable> started = new ArrayList<>();
        try {
            Backend backend = Backends.open(s.backend());
            started.add(backend);
            LOG.info(() -> "loading " + s.model() + " on the " + s.backend() + " backend"
                    + (s.compiled() == null ? "" : " from the compiled package " + s.compiled())
                    + (s.weights().equals(LoadOptions.DEFAULT) ? "" : " (" + s.weights().describe() + ")"));
            Backend.LoadConfig load = new Backend.LoadConfig(s.engine().kvCacheMemoryBytes(),
                    s.engine().maxNumSeqs(), s.engine().maxNumBatchedTokens(), s.weights().storage(), s.weights().quantize());
            ModelRunner runner = backend.load(s.model(), s.compiled() == null ? load : load.withCompiled(s.compiled()));
            started.add(runner);
            ModelInfo info = ModelInfo.describe(s.model()); // the same for every backend
            Tokenizer tokenizer = ModelTokenizer.forModel(info, s.tokenizer());
            Engine engine = new Engine(runner, tokenizer, s.engine()).start();
            started.remove(runner);
            started.add(engine); // closes the runner
            ServedModel model = new ServedModel(s.names(), info, tokenizer, engine, Instant.now().getEpochSecond());
            ServerMetrics metrics = new ServerMetrics(engine, model.id(), s.server().metricsNames());
            InferenceService service = new InferenceService(model, metrics, s.maxInFlight(), s.requestTimeout());
            started.add(service);
            // Both ports are bound before anything says the server is up: a taken gRPC port fails the start
            // before HTTP could report that it listens.
            GrpcServer grpc = s.server().grpcPort() == -1 ? null : startGrpc(service, s.server());
            if (grpc != null) started.add(grpc);
            HttpServer http = startHttp(service, s.server());
            started.add(http);
            return new BasaltServer(s, backend, model, service, http, grpc);
        } catch (RuntimeException e) {
            for (AutoCloseable c : started.reversed()) closeQuietly(c, e);
            throw e;
        }
    }

    /** Netty reports a taken port as a (sneakily thrown, checked) BindException: made one clear line here. */
    private static HttpServer startHttp(InferenceService service, ServerConfig config) {
        try {
            return HttpServer.start(service, config);
        } catch (Exception e) {
            if (e instanceof java.io.IOException io) {
                throw new java.io.UncheckedIOException("cannot serve HTTP on " + config.host() + ":" + config.httpPort() + ": "
                        + io.getMessage() + portHint(io, "choose another --port (0 picks a free one)"), io);
            }
            throw (RuntimeException) e;
        }
    }

    private static GrpcServer startGrpc(InferenceService service, ServerConfig config) {
        try {
            return GrpcServer.start(service, config);
        } catch (java.io.UncheckedIOException e) {
            throw new java.io.UncheckedIOException(e.getMessage() + portHint(e.getCause(),
                    "choose another --grpc-port, or --grpc-port -1 to serve HTTP only"), e.getCause());
        }
    }

    /** What to do about a port that is taken (Netty's native transport reports it as errno text, not a BindException). */
    private static String portHint(Throwable bindFailure, String advice) {
        for (Throwable t = bindFailure; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
                return " (address already in use: another process listens there; " + advice + ")";
            }
        }
        return "";
    }


    private static void closeQuietly(AutoCloseable c, Throwable into) {
        try {
            if (c instanceof HttpServer h) h.close(Duration.ZERO);
            else if (c instanceof GrpcServer g) g.close(Duration.ZERO);
            else c.close();
        } catch (Exception e) {
            into.addSuppressed(e);
        }
    }

    public ServeSettings settings() { return settings; }

    public ServedModel model() { return model; }

    public Engine engine() { return model.engine(); }

    public InferenceService service() { return service; }

    public int httpPort() { return http.port(); }

    /** The gRPC port, or -1 when gRPC is off. */
    public int grpcPort() { return grpc == null ? -1 : grpc.port(); }

    /** {@code http://host:port}, with a loopback host when bound to all interfaces. */
    public String baseUrl() {
        String host = settings.server().host();
        if (host.equals("0.0.0.0") || host.equals("::") || host.isEmpty()) host = "127.0.0.1";
        if (host.contains(":")) host = "[" + host + "]";
        return "http://" + host + ":" + httpPort();
    }

    /** The line {@code basalt serve} prints once it accepts requests. */
    public String readyLine() {
        String host = settings.server().host();
        return "basalt: serving " + String.join(", ", model.names()) + " on http://" + (host.contains(":") ? "[" + host + "]" : host)
                + ":" + httpPort() + (grpc == null ? "" : " (gRPC :" + grpcPort() + ")")
                + (settings.weights().equals(LoadOptions.DEFAULT) ? "" : ", weights " + settings.weights().describe());
    }

    /**
     * Drains and stops: refuses new requests, lets those in flight finish within {@code grace},
     * then aborts the rest and unloads the model. Idempotent; a second caller waits for the first.
     */
    public void shutdown(Duration grace) {
        boolean first;
        synchronized (this) {
            first = state == State.RUNNING;
            if (first) state = State.STOPPING;
        }
        // Waiting outside the lock: the first caller needs it to mark the server stopped.
        if (!first) {
            awaitStopped();
            return;
        }
        try {
            long deadline = System.nanoTime() + grace.toNanos();
            service.drain();
            int inFlight = service.inFlight();
            if (inFlight > 0) LOG.info(() -> "draining: " + inFlight + " request(s) in flight, up to " + grace.toMillis() / 1000.0 + " s");
            // Both transports stop accepting and wait for their calls in flight, side by side.
            Thread h = Thread.ofPlatform().name("basalt-http-close").start(() -> closeTransport("HTTP", () -> http.close(grace)));
            Thread g = grpc == null ? null
                    : Thread.ofPlatform().name("basalt-grpc-close").start(() -> closeTransport("gRPC", () -> grpc.close(grace)));
            join(h, deadline);
            if (g != null) join(g, deadline);
            // The transports may let go of a stream before the engine finished its request; give it the rest of the grace.
            while (service.inFlight() > 0 && System.nanoTime() < deadline) sleep(10);
            if (service.inFlight() > 0) {
                LOG.warning("shutdown grace of " + grace.toMillis() / 1000.0 + " s over: aborting " + service.inFlight() + " request(s)");
            }
        } finally {
            try {
                model.engine().close(); // ends anything left with ABORT, frees the KV, closes the runner
            } finally {
                service.close();
                try {
                    backend.close();
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, "backend close failed", e);
                }
                synchronized (this) {
                    state = State.STOPPED;
                }
                stopped.countDown();
            }
        }
    }

    private static void closeTransport(String name, Runnable close) {
        try {
            close.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, name + " server close failed: " + e, e);
        }
    }

    private static void join(Thread t, long deadlineNanos) {
        try {
            // The transports wait at most the grace themselves; a little slack for their forced close.
            long ms = Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000) + 10_000;
            t.join(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Serving: {@link #shutdown} has not begun. */
    public synchronized boolean isRunning() { return state == State.RUNNING; }

    /** Blocks until {@link #shutdown} has finished. */
    public void awaitStopped() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Stops at once: requests in flight are cut off. */
    @Override
    public void close() { shutdown(Duration.ZERO); }
}
