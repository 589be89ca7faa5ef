package io.basalt.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.server.OverloadedException;
import io.basalt.server.openai.Json;
import io.basalt.server.openai.OpenAiException;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Error responses, always {@code {"error":{"message","type","param","code"}}}, and the mapping from
 * what the layers below throw: {@link OpenAiException} as is; {@link OverloadedException} and a full
 * preparation queue → 429 with {@code Retry-After: 1}; the engine's {@link IllegalArgumentException}
 * (prompt too long, n above max-num-seqs, …) → 400; an engine that is shut down → 503; anything
 * else is our bug → 500 (logged).
 */
final class OpenAiErrors {
    private static final Logger LOG = Logger.getLogger("basalt.server");

    private OpenAiErrors() {}

    static OpenAiException of(Throwable t, String promptParam) {
        if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) t = t.getCause();
        return switch (t) {
            case OpenAiException e -> e;
            case OverloadedException e -> overloaded(e.getMessage());
            case RejectedExecutionException e -> overloaded("too many requests are being prepared; retry later");
            case io.basalt.structured.SchemaException e -> OpenAiException.invalid("response_format",
                    "Invalid schema for response_format: " + e.getMessage());
            case IllegalArgumentException e -> OpenAiException.invalid(engineParam(e.getMessage(), promptParam), e.getMessage());
            case IllegalStateException e -> new OpenAiException(503, "server_error", "The server is not accepting requests: "
                    + e.getMessage(), null, "service_unavailable");
            default -> {
                LOG.log(Level.SEVERE, "internal error while handling a request", t);
                yield internal("internal server error: " + t);
            }
        };
    }

    static OpenAiException overloaded(String message) {
        return new OpenAiException(429, "rate_limit_error", message, null, "rate_limit_exceeded");
    }

    static OpenAiException internal(String message) {
        return new OpenAiException(500, "server_error", message, null, null);
    }

    static OpenAiException tooLarge(int limit) {
        return new OpenAiException(413, "invalid_request_error", "The request body is larger than the limit of " + limit + " bytes",
                null, "request_too_large");
    }

    static OpenAiException notFound(String path) {
        return new OpenAiException(404, "invalid_request_error", "Unknown endpoint " + path, null, "not_found");
    }

    static OpenAiException methodNotAllowed(String method, String path) {
        return new OpenAiException(405, "invalid_request_error", "Method " + method + " is not allowed for " + path, null,
                "method_not_allowed");
    }

    static OpenAiException unauthorized() {
        return new OpenAiException(401, "invalid_request_error", "Missing or invalid API key: send 'Authorization: Bearer <key>'",
                null, "invalid_api_key");
    }

    /** Which request field an engine rejection is about. */
    private static String engineParam(String message, String promptParam) {
        if (message == null) return null;
        if (message.startsWith("n = ")) return "n";
        if (message.startsWith("response_format")) return "response_format";
        if (message.startsWith("the prompt") || message.startsWith("token id")) return promptParam;
        return null;
    }

    /** The HTTP response for an error (429 with Retry-After: 1, 405 naming nothing more). */
    static FullHttpResponse response(OpenAiException e, boolean keepAlive) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(e.status()),
                Unpooled.wrappedBuffer(Json.bytes(e.toJson())));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        if (e.status() == 429 || e.status() == 503) r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        if (!keepAlive) r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return r;
    }

    /** An error after a stream has started (headers already said 200): an SSE event of its own. */
    static ObjectNode streamError(String message) {
        return OpenAiException.body(message, "server_error", null, null);
    }
}
