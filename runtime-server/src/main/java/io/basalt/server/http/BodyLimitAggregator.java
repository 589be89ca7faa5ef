package io.basalt.server.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Netty's aggregator, except that a body over the limit does not get Netty's bare 413: the
 * aggregator passes a {@link TooLarge} on to the {@link Router}, which answers in OpenAI's shape in
 * request order. The rest of the body is discarded by the aggregator, so a keep-alive client that
 * keeps uploading still reads the answer.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
    /** An oversized request, in place of the request itself. */
    record TooLarge(boolean keepAlive, int limit) { }

    private final int limit;

    BodyLimitAggregator(int maxContentLength) {
        super(maxContentLength);
        this.limit = maxContentLength;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        // A body already read in full (FullHttpMessage) leaves nothing to discard; otherwise the connection
        // stays usable only if the client keeps it alive and the aggregator can skip the rest of the body.
        boolean keepAlive = HttpUtil.isKeepAlive(oversized) && (oversized instanceof FullHttpMessage
                || !HttpUtil.is100ContinueExpected(oversized));
        ctx.fireChannelRead(new TooLarge(keepAlive, limit));
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof FullHttpResponse r && r.status().equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE)) {
            return OpenAiErrors.response(OpenAiErrors.tooLarge(maxContentLength), false);
        }
        return response;
    }
}
