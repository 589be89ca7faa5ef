package io.basalt.server.http;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Routes one connection's requests, one at a time (HTTP/1.1 answers in order: a pipelined request
 * waits until the one before it has been answered), checks the API key, and tells the current
 * {@link Exchange} when the channel closes or becomes writable again.
 *
 * <p>Routes: POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /v1/models/{id},
 * POST /tokenize, POST /detokenize; open without a key: GET /health, /ready, /metrics. Unknown paths
 * are 404, a known path with another method 405.
 */
final class Router extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger("basalt.server");
    private static final int MAX_PIPELINED = 16;

    private final ServerContext context;
    private final CompletionsHandler completions;
    private final ChatCompletionsHandler chat;
    private final ModelsHandler models;
    private final TokenizeHandler tokenize;
    private final HealthHandler health;
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private Exchange current;

    Router(ServerContext context) {
        this.context = context;
        this.completions = new CompletionsHandler(context);
        this.chat = new ChatCompletionsHandler(context);
        this.models = new ModelsHandler(context);
        this.tokenize = new TokenizeHandler(context);
        this.health = new HealthHandler(context);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) { this.ctx = ctx; }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest) && !(msg instanceof BodyLimitAggregator.TooLarge)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (current != null) {
            if (pending.size() >= MAX_PIPELINED) {
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            pending.add(msg);
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        context.inFlight.incrementAndGet();
        if (msg instanceof BodyLimitAggregator.TooLarge t) {
            current = new Exchange(ctx, HttpMethod.POST, "", null, t.keepAlive(), new byte[0], this::done);
            current.sendError(OpenAiErrors.tooLarge(t.limit()));
            return;
        }
        FullHttpRequest req = (FullHttpRequest) msg;
        try {
            if (req.decoderResult().isFailure()) {
                current = new Exchange(ctx, req.method(), "", req.headers(), false, new byte[0], this::done);
                current.sendError(io.basalt.server.openai.OpenAiException.invalid(null, "Malformed HTTP request: "
                        + req.decoderResult().cause()));
                return;
            }
            String path;
            try {
                path = new QueryStringDecoder(req.uri(), StandardCharsets.UTF_8).path();
            } catch (IllegalArgumentException e) {            // a malformed %-escape
                path = null;
            }
            Exchange ex = new Exchange(ctx, req.method(), path == null ? "" : path, req.headers(), HttpUtil.isKeepAlive(req),
                    ByteBufUtil.getBytes(req.content()), this::done);
            current = ex;
            try {
                if (path == null) throw io.basalt.server.openai.OpenAiException.invalid(null, "Malformed request URI");
                route(ex);
            } catch (io.basalt.server.openai.OpenAiException e) {
                ex.sendError(e);
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "internal error routing " + path, e);
                ex.sendError(OpenAiErrors.internal("internal server error: " + e));
            }
        } finally {
            req.release();
        }
    }

    private void route(Exchange ex) {
        String path = ex.path();
        switch (path) {
            case "/health" -> { if (allow(ex, HttpMethod.GET)) health.health(ex); return; }
            case "/ready" -> { if (allow(ex, HttpMethod.GET)) health.ready(ex); return; }
            case "/metrics" -> { if (allow(ex, HttpMethod.GET)) health.metrics(ex); return; }
            default -> { }
        }
        if (!authorized(ex)) {
            ex.sendError(OpenAiErrors.unauthorized());
            return;
        }
        switch (path) {
            case "/v1/completions" -> { if (allow(ex, HttpMethod.POST)) completions.handle(ex); }
            case "/v1/chat/completions" -> { if (allow(ex, HttpMethod.POST)) chat.handle(ex); }
            case "/v1/models" -> { if (allow(ex, HttpMethod.GET)) models.list(ex); }
            case "/tokenize" -> { if (allow(ex, HttpMethod.POST)) tokenize.tokenize(ex); }
            case "/detokenize" -> { if (allow(ex, HttpMethod.POST)) tokenize.detokenize(ex); }
            default -> {
                if (path.startsWith("/v1/models/") && path.length() > "/v1/models/".length()) {
                    if (allow(ex, HttpMethod.GET)) models.get(ex, path.substring("/v1/models/".length()));
                } else {
                    ex.sendError(OpenAiErrors.notFound(path.length() > 200 ? path.substring(0, 200) + "…" : path));
                }
            }
        }
    }

    private static boolean allow(Exchange ex, HttpMethod method) {
        if (ex.method().equals(method)) return true;
        ex.sendError(OpenAiErrors.methodNotAllowed(ex.method().name(), ex.path()));
        return false;
    }

    /** Constant-time comparison of "Bearer <key>" with the configured key (no key configured: open). */
    private boolean authorized(Exchange ex) {
        if (!context.config.requiresApiKey()) return true;
        String header = ex.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, context.config.apiKey().getBytes(StandardCharsets.UTF_8));
    }

    /** The exchange finished (lastWrite != null) or its connection closed (lastWrite == null). */
    private void done(Exchange ex, ChannelFuture lastWrite) {
        if (ex != current) return;
        current = null;
        context.inFlight.decrementAndGet();
        if (lastWrite == null) return;
        if (!ex.keepAlive() || context.closing) {
            lastWrite.addListener(ChannelFutureListener.CLOSE);
            return;
        }
        Object next = pending.poll();
        if (next != null) ctx.channel().eventLoop().execute(() -> dispatchIfOpen(next));
    }

    private void dispatchIfOpen(Object next) {
        if (!ctx.channel().isActive()) {
            ReferenceCountUtil.release(next);
            return;
        }
        dispatch(next);
    }

    /** Server shutdown: a connection with no request in progress is closed now. */
    void closeIfIdle() {
        if (current == null) ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (current != null) current.connectionClosed();
        for (Object o; (o = pending.poll()) != null; ) ReferenceCountUtil.release(o);
        super.channelInactive(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (current != null) current.writabilityChanged();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
            if (current == null) ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) LOG.log(Level.WARNING, "HTTP connection error", cause);
        ctx.close();
    }
}
