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
import java.io.PrintStream;
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
 * <p>Shutdown ({@link #shutdown}, or SIGTERM/SIGINT once {@link #installSignalHandlers} ran):
 * new requests are refused ({@link InferenceService#drain()}), both transports stop accepting and
 * give the requests in flight up to the grace period to finish, then the engine stops (aborting
 * whatever is left) and the model is unloaded.
 */
public final class BasaltServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("basalt.server");

    /**
     * What {@code basalt serve} configures.
     *
     * @param model           model file or directory (any supported format)
     * @param tokenizer       tokenizer file, or null to find the model's own
     * @param names           names clients may use (the first is the id /v1/models reports)
     * @param backend         backend name (cpu, ...)
     * @param engine          scheduler limits and KV budget
     * @param weights         how the weight matrices are stored (--dtype, --quantize)
     * @param maxQueue        requests admitted beyond max-num-seqs; more in flight are refused (429)
     * @param requestTimeout  per-request limit, Duration.ZERO for none
     * @param server          transport settings (host, ports, API key, body limit, shutdown grace)
     */
    public record Settings(Path model, Path tokenizer, List<String> names, String backend, EngineConfig engine,
                           LoadOptions weights, int maxQueue, Duration requestTimeout, ServerConfig server) {
        public Settings {
            names = List.copyOf(names);
            if (weights == null) throw new IllegalArgumentException("weight storage options are required");
            if (names.isEmpty()) throw new IllegalArgumentException("a served model needs at least one name");
            if (maxQueue < 0) throw new IllegalArgumentException("--max-queue must be >= 0, got " + maxQueue);
            if (requestTimeout.isNegative()) throw new IllegalArgumentException("--request-timeout must not be negative");
        }

        /** Loopback, free ports (no gRPC), 4 sequences + 16 queued, 64 MiB of KV, no timeout: for tests. */
        public static Settings forTests(Path model) {
            ServerConfig s = ServerConfig.forTests();
            return new Settings(model, null, List.of(model.getFileName().toString()), "cpu",
                    new EngineConfig(4, 512, 64L << 20, true), LoadOptions.DEFAULT, 16, Duration.ZERO,
                    new ServerConfig(s.host(), 0, -1, "", s.maxBodyBytes(), s.shutdownGrace()));
        }

        public Settings withEngine(EngineConfig v) { return new Settings(model, tokenizer, names, backend, v, weights, maxQueue, requestTimeout, server); }

        public Settings withWeights(LoadOptions v) { return new Settings(model, tokenizer, names, backend, engine, v, maxQueue, requestTimeout, server); }

        public Settings withMaxQueue(int v) { return new Settings(model, tokenizer, names, backend, engine, weights, v, requestTimeout, server); }

        public Settings withServer(ServerConfig v) { return new Settings(model, tokenizer, names, backend, engine, weights, maxQueue, requestTimeout, v); }

        public Settings withBackend(String v) { return new Settings(model, tokenizer, names, v, engine, weights, maxQueue, requestTimeout, server); }

        public Settings withNames(List<String> v) { return new Settings(model, tokenizer, v, backend, engine, weights, maxQueue, requestTimeout, server); }

        public Settings withRequestTimeout(Duration v) { return new Settings(model, tokenizer, names, backend, engine, weights, maxQueue, v, server); }

        /** Requests in flight at most: running + queued. */
        public int maxInFlight() { return engine.maxNumSeqs() + maxQueue; }
    }

    private enum State { RUNNING, STOPPING, STOPPED }

    private final Settings settings;
    private final Backend backend;
    private final ServedModel model;
    private final InferenceService service;
    private final HttpServer http;
    private final GrpcServer grpc;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private State state = State.RUNNING;

    private BasaltServer(Settings settings, Backend backend, ServedModel model, InferenceService service, HttpServer http,
                         GrpcServer grpc) {
        this.settings = settings;
        this.backend = backend;
        this.model = model;
        this.service = service;
        this.http = http;
        this.grpc = grpc;
    }

    /** Loads the model, starts the engine and both servers; everything started is stopped again on failure. */
    public static BasaltServer start(Settings s) {
        List<AutoCloseable> started = new ArrayList<>();
        try {
            Backend backend = Backends.open(s.backend());
            started.add(backend);
            LOG.info(() -> "loading " + s.model() + " on the " + s.backend() + " backend"
                    + (s.weights().equals(LoadOptions.DEFAULT) ? "" : " (" + s.weights().describe() + ")"));
            ModelRunner runner = backend.load(s.model(), new Backend.LoadConfig(s.engine().kvCacheMemoryBytes(),
                    s.engine().maxNumSeqs(), s.engine().maxNumBatchedTokens(), s.weights().storage(), s.weights().quantize()));
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

    public Settings settings() { return settings; }

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
        synchronized (this) {
            if (state != State.RUNNING) {
                awaitStopped();
                return;
            }
            state = State.STOPPING;
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

    /**
     * SIGTERM/SIGINT: drain within the configured grace ({@link #shutdown}), then exit with status 0
     * — a graceful stop is a success, not the 143/130 the JVM would report. The signals are trapped
     * before the JVM starts shutting down, so logging (one line per finished request) still works
     * while requests drain; a second signal exits at once (status 1). A JVM shutdown hook does the
     * same drain for any other way the JVM is asked to stop (SIGHUP, System.exit, or where the
     * signals cannot be trapped), leaving alone a shutdown that {@link #shutdown} already did.
     */
    public void installSignalHandlers(PrintStream log) {
        java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.Consumer<String> onSignal = name -> {
            if (signals.incrementAndGet() > 1) {
                log.println("basalt: SIG" + name + " again: exiting now, without waiting for requests in flight");
                log.flush();
                Runtime.getRuntime().halt(1);
            }
            Thread.ofPlatform().name("basalt-drain").start(() -> {
                stopGracefully(log, "SIG" + name);
                System.exit(0);
            });
        };
        trapSignal("TERM", onSignal);
        trapSignal("INT", onSignal);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("basalt-shutdown").unstarted(() -> {
            synchronized (this) {
                if (state != State.RUNNING) return;
            }
            stopGracefully(log, "JVM shutdown");
            Runtime.getRuntime().halt(0);
        }));
    }

    private void stopGracefully(PrintStream log, String why) {
        synchronized (this) {
            if (state != State.RUNNING) {
                awaitStopped();
                return;
            }
        }
        Duration grace = settings.server().shutdownGrace();
        service.drain(); // before saying so: whoever reads the line may count on it
        log.println("basalt: " + why + ": shutting down: refusing new requests, " + service.inFlight()
                + " in flight get up to " + grace.toMillis() / 1000.0 + " s to finish");
        log.flush();
        long t0 = System.nanoTime();
        shutdown(grace);
        log.printf("basalt: stopped after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        log.flush();
        System.out.flush();
    }

    /**
     * {@code sun.misc.Signal.handle}, reached reflectively (jdk.unsupported: no compile-time
     * warning, and no failure where it is missing); false when the signal cannot be trapped.
     */
    private static boolean trapSignal(String name, java.util.function.Consumer<String> handler) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object proxy = java.lang.reflect.Proxy.newProxyInstance(BasaltServer.class.getClassLoader(), new Class<?>[] {handlerType},
                    (self, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            handler.accept(name);
                            yield null;
                        }
                        case "hashCode" -> System.identityHashCode(self);
                        case "equals" -> self == args[0];
                        default -> "basalt SIG" + name + " handler";
                    });
            signal.getMethod("handle", signal, handlerType).invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.fine(() -> "cannot trap SIG" + name + " (" + e + "); the shutdown hook drains instead");
            return false;
        }
    }

    /** Stops at once: requests in flight are cut off. */
    @Override
    public void close() { shutdown(Duration.ZERO); }
}
