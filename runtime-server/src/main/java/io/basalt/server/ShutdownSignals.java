package io.basalt.server;

import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * SIGTERM/SIGINT for {@code basalt serve}: drain within the configured grace
 * ({@link BasaltServer#shutdown}), then exit with status 0 — a graceful stop is a success, not the
 * 143/130 the JVM would report. The signals are trapped before the JVM starts shutting down, so
 * logging (one line per finished request) still works while requests drain; a second signal exits
 * at once (status 1). A JVM shutdown hook does the same drain for any other way the JVM is asked to
 * stop (SIGHUP, System.exit, or where the signals cannot be trapped), leaving alone a shutdown that
 * {@link BasaltServer#shutdown} already did.
 */
public final class ShutdownSignals {
    private static final Logger LOG = Logger.getLogger("basalt.server");

    private ShutdownSignals() {}

    /** Traps SIGTERM and SIGINT and adds the shutdown hook; {@code log} gets the lines that say what happens. */
    public static void install(BasaltServer server, PrintStream log) {
        AtomicInteger signals = new AtomicInteger();
        Consumer<String> onSignal = name -> {
            if (signals.incrementAndGet() > 1) {
                log.println("basalt: SIG" + name + " again: exiting now, without waiting for requests in flight");
                log.flush();
                Runtime.getRuntime().halt(1);
            }
            Thread.ofPlatform().name("basalt-drain").start(() -> {
                stopGracefully(server, log, "SIG" + name);
                System.exit(0);
            });
        };
        trapSignal("TERM", onSignal);
        trapSignal("INT", onSignal);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("basalt-shutdown").unstarted(() -> {
            if (!server.isRunning()) return;
            stopGracefully(server, log, "JVM shutdown");
            Runtime.getRuntime().halt(0);
        }));
    }

    private static void stopGracefully(BasaltServer server, PrintStream log, String why) {
        if (!server.isRunning()) {
            server.awaitStopped();
            return;
        }
        Duration grace = server.settings().server().shutdownGrace();
        InferenceService service = server.service();
        service.drain(); // before saying so: whoever reads the line may count on it
        log.println("basalt: " + why + ": shutting down: refusing new requests, " + service.inFlight()
                + " in flight get up to " + grace.toMillis() / 1000.0 + " s to finish");
        log.flush();
        long t0 = System.nanoTime();
        server.shutdown(grace);
        log.printf("basalt: stopped after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        log.flush();
        System.out.flush();
    }

    /**
     * {@code sun.misc.Signal.handle}, reached reflectively (jdk.unsupported: no compile-time
     * warning, and no failure where it is missing); false when the signal cannot be trapped.
     */
    private static boolean trapSignal(String name, Consumer<String> handler) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object proxy = Proxy.newProxyInstance(ShutdownSignals.class.getClassLoader(), new Class<?>[] {handlerType},
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
}
