package io.basalt.server.http;

import io.basalt.server.InferenceService;
import io.basalt.server.ServerConfig;
import io.basalt.server.openai.OpenAiModel;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The OpenAI-compatible HTTP server: binds, and shuts down. The pipeline is in
 * {@link HttpServerInitializer}, routing in {@link Router}, each endpoint family in its handler.
 *
 * <p>Shutdown: {@link #close(Duration)} stops accepting at once, closes idle keep-alive connections,
 * lets requests in flight finish (streams keep streaming) for up to the grace period, then closes
 * every connection — which aborts whatever is still generating — and stops the event loops.
 */
public final class HttpServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("basalt.server");
    private static final int QUEUED_PREPARATIONS = 1024;

    private final ServerContext context;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel serverChannel;
    private final int port;
    private boolean closed;

    private HttpServer(ServerContext context, EventLoopGroup boss, EventLoopGroup workers, Channel serverChannel) {
        this.context = context;
        this.boss = boss;
        this.workers = workers;
        this.serverChannel = serverChannel;
        this.port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Binds {@code config.host():config.httpPort()} (0 = any free port) and starts serving. */
    public static HttpServer start(InferenceService service, ServerConfig config) {
        OpenAiModel model = new OpenAiModel(service.model(), config.chat());
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors() / 2);
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor prepare = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUED_PREPARATIONS), r -> {
                    Thread t = new Thread(r, "basalt-http-prepare-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        prepare.allowCoreThreadTimeOut(true);
        ServerContext context = new ServerContext(service, model, config, prepare, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        try {
            Channel ch = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new HttpServerInitializer(context))
                    .bind(config.host(), config.httpPort())
                    .syncUninterruptibly()
                    .channel();
            HttpServer server = new HttpServer(context, boss, workers, ch);
            return server;
        } catch (RuntimeException e) {
            boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            prepare.shutdownNow();
            throw e;
        }
    }

    /** The bound port (the ephemeral one when configured with 0). */
    public int port() { return port; }

    /** {@link #close(Duration)} with the configured shutdown grace. */
    @Override
    public void close() { close(context.config.shutdownGrace()); }

    /** Stops accepting; requests in flight keep going until done or until {@code grace} has passed. */
    public synchronized void close(Duration grace) {
        if (closed) return;
        closed = true;
        context.closing = true;
        serverChannel.close().syncUninterruptibly();
        for (Channel ch : context.channels) {
            ch.eventLoop().execute(() -> {
                Router router = ch.pipeline().get(Router.class);
                if (router != null) router.closeIfIdle();
            });
        }
        long deadline = System.nanoTime() + grace.toNanos();
        while (context.inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (context.inFlight.get() > 0) {
            LOG.warning(() -> context.inFlight.get() + " HTTP request(s) still running after the grace period; closing their connections");
        }
        context.channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        context.prepare.shutdownNow();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
