package io.basalt.server.grpc;

import io.basalt.api.grpc.InferenceGrpc;
import io.basalt.api.kserve.GRPCInferenceServiceGrpc;
import io.basalt.server.InferenceService;
import io.basalt.server.ServerConfig;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The gRPC server: {@code basalt.v1.Inference} (streamed generation), the KServe v2 / Triton
 * {@code inference.GRPCInferenceService} subset, the standard health service
 * ({@code grpc.health.v1.Health}: SERVING once started, NOT_SERVING while the inference service
 * drains or the server closes) and server reflection. Every generation goes through
 * {@link InferenceService#submit}, so admission, timeouts, metrics and the request log apply as for
 * HTTP. With an API key configured every call but health needs {@code authorization: Bearer <key>}.
 *
 * <pre>{@code
 * try (GrpcServer grpc = GrpcServer.start(service, config)) {
 *     System.out.println("gRPC on port " + grpc.port());
 * }
 * }</pre>
 */
public final class GrpcServer implements AutoCloseable {
    /** Names whose health status is published (the empty name is the whole server). */
    private static final List<String> HEALTH_NAMES = List.of("", InferenceGrpc.SERVICE_NAME, GRPCInferenceServiceGrpc.SERVICE_NAME);
    private static final Duration FORCED_SHUTDOWN_WAIT = Duration.ofSeconds(5);

    private final Server server;
    private final InferenceService service;
    private final ServerConfig config;
    private final HealthStatusManager health;
    private final ExecutorService streams;
    private final ScheduledExecutorService drainWatch;
    private final AtomicBoolean servingPublished = new AtomicBoolean(true);
    private final AtomicBoolean closed = new AtomicBoolean();

    private GrpcServer(Server server, InferenceService service, ServerConfig config, HealthStatusManager health,
                       ExecutorService streams, ScheduledExecutorService drainWatch) {
        this.server = server;
        this.service = service;
        this.config = config;
        this.health = health;
        this.streams = streams;
        this.drainWatch = drainWatch;
    }

    /**
     * Binds {@code config.host():config.grpcPort()} (0 = any free port) and starts serving.
     *
     * @throws IllegalArgumentException when gRPC is disabled ({@code grpcPort == -1})
     * @throws UncheckedIOException     when the address cannot be bound
     */
    public static GrpcServer start(InferenceService service, ServerConfig config) {
        if (config.grpcPort() < 0) throw new IllegalArgumentException("gRPC is disabled (--grpc-port " + config.grpcPort() + ")");
        HealthStatusManager health = new HealthStatusManager();
        ExecutorService streams = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("basalt-grpc-stream-", 0).factory());
        ScheduledExecutorService drainWatch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "basalt-grpc-health");
            t.setDaemon(true);
            return t;
        });
        // After close the executor refuses work; the few late tasks (a cancelled call's last drain)
        // then run inline instead of throwing into the engine thread.
        Executor executor = task -> {
            try {
                streams.execute(task);
            } catch (RejectedExecutionException e) {
                task.run();
            }
        };
        GrpcServer[] self = new GrpcServer[1];
        // A health check sees a drain at once; Watch streams see it within the watch period.
        ServerInterceptor refreshHealth = new ServerInterceptor() {
            @Override
            public <ReqT, RespT> io.grpc.ServerCall.Listener<ReqT> interceptCall(io.grpc.ServerCall<ReqT, RespT> call,
                    io.grpc.Metadata headers, io.grpc.ServerCallHandler<ReqT, RespT> next) {
                if (self[0] != null) self[0].refreshHealth();
                return next.startCall(call, headers);
            }
        };
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.grpcPort()))
                .maxInboundMessageSize((int) Math.min(config.maxBodyBytes(), Integer.MAX_VALUE))
                .addService(new InferenceGrpcService(service, executor))
                .addService(new KServeGrpcService(service, executor, () -> self[0] != null && self[0].isReady()))
                .addService(ServerInterceptors.intercept(health.getHealthService(), refreshHealth))
                .addService(ProtoReflectionServiceV1.newInstance());
        if (config.requiresApiKey()) builder.intercept(new ApiKeyInterceptor(config.apiKey()));
        Server server;
        try {
            server = builder.build().start();
        } catch (IOException e) {
            streams.shutdown();
            drainWatch.shutdown();
            throw new UncheckedIOException("cannot serve gRPC on " + config.host() + ":" + config.grpcPort() + ": " + e.getMessage(), e);
        }
        GrpcServer grpc = new GrpcServer(server, service, config, health, streams, drainWatch);
        self[0] = grpc;
        for (String name : HEALTH_NAMES) health.setStatus(name, ServingStatus.SERVING);
        grpc.refreshHealth();
        drainWatch.scheduleWithFixedDelay(grpc::refreshHealth, 200, 200, TimeUnit.MILLISECONDS);
        return grpc;
    }

    /** The bound port (the chosen one when the config asked for 0). */
    public int port() { return server.getPort(); }

    private boolean isReady() { return !closed.get() && !service.isDraining(); }

    /** Publishes NOT_SERVING once the inference service drains (draining never ends). */
    private void refreshHealth() {
        if (!isReady() && servingPublished.compareAndSet(true, false)) {
            for (String name : HEALTH_NAMES) health.setStatus(name, ServingStatus.NOT_SERVING);
        }
    }

    /** Closes with the configured shutdown grace. */
    @Override
    public void close() { close(config.shutdownGrace()); }

    /**
     * Health turns NOT_SERVING and new calls are refused; calls in flight get up to {@code grace}
     * to finish, then are cancelled (which aborts their requests in the engine). The
     * {@link InferenceService} is left open: it belongs to the caller.
     */
    public void close(Duration grace) {
        if (!closed.compareAndSet(false, true)) return;
        servingPublished.set(false);
        health.enterTerminalState();
        drainWatch.shutdownNow();
        server.shutdown();
        try {
            if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
                server.awaitTermination(FORCED_SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            streams.shutdown();
        }
    }
}
