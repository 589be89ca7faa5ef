package io.basalt.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.server.openai.Json;
import io.basalt.server.openai.OpenAiException;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * GET /v1/models: one entry per name the model answers to (the id first, then aliases, as vLLM lists
 * served model names), with vLLM's root and max_model_len; GET /v1/models/{id}: one of them.
 */
final class ModelsHandler {
    private final ServerContext context;

    ModelsHandler(ServerContext context) { this.context = context; }

    void list(Exchange ex) {
        ObjectNode r = Json.object();
        r.put("object", "list");
        ArrayNode data = r.putArray("data");
        for (String name : context.model.names()) data.add(model(name));
        ex.sendJson(HttpResponseStatus.OK, r);
    }

    /** @param id the decoded path segment(s) after /v1/models/ (ids such as "org/name" contain slashes) */
    void get(Exchange ex, String id) {
        if (!context.model.served().answersTo(id)) throw OpenAiException.modelNotFound(id.length() > 100 ? id.substring(0, 100) : id);
        ex.sendJson(HttpResponseStatus.OK, model(id));
    }

    private ObjectNode model(String name) {
        ObjectNode m = Json.object();
        m.put("id", name);
        m.put("object", "model");
        m.put("created", context.model.served().createdEpochSeconds());
        m.put("owned_by", "basalt");
        m.put("root", context.model.served().id());
        m.putNull("parent");
        m.put("max_model_len", context.model.contextLength());
        return m;
    }
}
