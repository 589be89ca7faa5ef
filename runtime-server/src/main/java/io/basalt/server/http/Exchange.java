package io.basalt.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.basalt.server.openai.Json;
import io.basalt.server.openai.OpenAiException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;

/**
 * One request and its response on a connection. Every method but {@link #execute} and
 * {@link #offload} must be called on the channel's event loop. The response is either one full
 * message ({@link #sendJson}, {@link #sendError}, …) or a server-sent-event stream
 * ({@link #startEvents}, {@link #event}, {@link #endEvents}); once it is complete, or the connection
 * has closed, the exchange is done and everything else is a no-op.
 */
final class Exchange {
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final ChannelHandlerContext ctx;
    private final HttpMethod method;
    private final String path;
    private final HttpHeaders headers;
    private final boolean keepAlive;
    private final byte[] body;
    private final BiConsumer<Exchange, ChannelFuture> onDone;
    private final long receivedNanos = System.nanoTime(); // the whole request is in: latency metrics start here
    private boolean done;
    private Runnable closeHook;
    private Runnable writableHook;

    Exchange(ChannelHandlerContext ctx, HttpMethod method, String path, HttpHeaders headers, boolean keepAlive, byte[] body,
             BiConsumer<Exchange, ChannelFuture> onDone) {
        this.ctx = ctx;
        this.method = method;
        this.path = path;
        this.headers = headers;
        this.keepAlive = keepAlive;
        this.body = body;
        this.onDone = onDone;
    }

    HttpMethod method() { return method; }

    String path() { return path; }

    HttpHeaders headers() { return headers; }

    byte[] body() { return body; }

    /** {@link System#nanoTime()} when the request had fully arrived (before parsing and tokenizing). */
    long receivedNanos() { return receivedNanos; }

    boolean keepAlive() { return keepAlive; }

    Channel channel() { return ctx.channel(); }

    /** Done: answered in full, or the client has gone. */
    boolean isDone() { return done; }

    boolean isWritable() { return !done && ctx.channel().isWritable(); }

    /** Runs {@code task} on this connection's event loop; false if the loop no longer runs tasks. */
    boolean execute(Runnable task) {
        try {
            ctx.channel().eventLoop().execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /**
     * Runs {@code task} on the preparation pool (tokenizing and submitting must not hold up an event
     * loop); what it throws becomes this exchange's error response.
     */
    void offload(ServerContext context, Runnable task, String promptParam) {
        try {
            context.prepare.execute(() -> {
                try {
                    task.run();
                } catch (Throwable t) {
                    OpenAiException e = OpenAiErrors.of(t, promptParam);
                    execute(() -> sendError(e));
                }
            });
        } catch (RejectedExecutionException e) {
            sendError(OpenAiErrors.of(e, promptParam));
        }
    }

    /** Called once the generation is submitted: {@code hook} runs if the client goes away before the end. */
    void onClose(Runnable hook) { this.closeHook = hook; }

    /** {@code hook} runs whenever the channel becomes writable again. */
    void onWritable(Runnable hook) { this.writableHook = hook; }

    void sendJson(HttpResponseStatus status, JsonNode json) {
        send(status, HttpHeaderValues.APPLICATION_JSON.toString(), Json.bytes(json));
    }

    void sendError(OpenAiException e) {
        if (done) return;
        FullHttpResponse r = OpenAiErrors.response(e, keepAlive);
        finish(ctx.writeAndFlush(r));
    }

    void send(HttpResponseStatus status, String contentType, byte[] content) {
        if (done) return;
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(content));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.length);
        if (!keepAlive) r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        finish(ctx.writeAndFlush(r));
    }

    /** 200 with Content-Type text/event-stream, chunked; events follow. */
    void startEvents() {
        if (done) return;
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        HttpUtil.setTransferEncodingChunked(r, true);
        if (!keepAlive) r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.write(r);
    }

    /** Writes {@code data: <json>\n\n} (not flushed). */
    void event(JsonNode json) {
        if (done) return;
        byte[] payload = Json.bytes(json);
        ByteBuf buf = ctx.alloc().buffer(payload.length + 8);
        buf.writeBytes("data: ".getBytes(StandardCharsets.US_ASCII)).writeBytes(payload).writeByte('\n').writeByte('\n');
        ctx.write(new DefaultHttpContent(buf));
    }

    void flush() {
        if (!done) ctx.flush();
    }

    /** {@code data: [DONE]}, the end of the chunked body, flushed; the exchange is done. */
    void endEvents() {
        if (done) return;
        ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(DONE)));
        finish(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
    }

    private void finish(ChannelFuture lastWrite) {
        done = true;
        closeHook = null;
        writableHook = null;
        onDone.accept(this, lastWrite);
    }

    /** The connection closed (client gone, reset, server shutdown) before the response was complete. */
    void connectionClosed() {
        if (done) return;
        done = true;
        Runnable hook = closeHook;
        closeHook = null;
        writableHook = null;
        onDone.accept(this, null);
        if (hook != null) hook.run();
    }

    void writabilityChanged() {
        if (!done && writableHook != null && ctx.channel().isWritable()) writableHook.run();
    }
}
