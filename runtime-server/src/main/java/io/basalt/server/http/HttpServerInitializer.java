package io.basalt.server.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * One connection's pipeline: idle detection → HTTP/1.1 codec → body aggregator capped at
 * {@code maxBodyBytes} (larger bodies get an OpenAI-shaped 413) → {@link Router}. A connection with
 * nothing read or written for {@value #IDLE_SECONDS} s is closed by the router unless a request is in
 * progress (a half-sent request or an abandoned keep-alive; a long generation is never cut).
 */
final class HttpServerInitializer extends ChannelInitializer<SocketChannel> {
    static final int IDLE_SECONDS = 120;

    private final ServerContext context;

    HttpServerInitializer(ServerContext context) { this.context = context; }

    @Override
    protected void initChannel(SocketChannel ch) {
        context.channels.add(ch);
        int maxBody = (int) Math.min(Integer.MAX_VALUE, context.config.maxBodyBytes());
        ChannelPipeline p = ch.pipeline();
        p.addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS));
        p.addLast(new HttpServerCodec());
        p.addLast(new BodyLimitAggregator(maxBody));
        p.addLast(new Router(context));
    }
}
