package io.basalt.server.http;

import io.basalt.server.openai.Json;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.basalt.server.ServerMetrics;

/** GET /health (alive), GET /ready (model loaded and not draining), GET /metrics (Prometheus text). */
final class HealthHandler {
    private final ServerContext context;

    HealthHandler(ServerContext context) { this.context = context; }

    void health(Exchange ex) {
        ex.sendJson(HttpResponseStatus.OK, Json.object().put("status", "ok"));
    }

    void ready(Exchange ex) {
        boolean draining = context.service.isDraining() || context.closing;
        ex.sendJson(draining ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.OK,
                Json.object().put("status", draining ? "draining" : "ready").put("model", context.model.served().id()));
    }

    void metrics(Exchange ex) {
        ServerMetrics metrics = context.service.metrics();
        ex.send(HttpResponseStatus.OK, metrics.contentType(), metrics.scrapeBytes());
    }
}
