package io.basalt.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The two OpenAI streaming APIs the load generator speaks: request bodies and where a chunk's text is. */
public enum Endpoint {
    COMPLETIONS("/v1/completions"),
    CHAT("/v1/chat/completions");

    private final String path;

    Endpoint(String path) { this.path = path; }

    public String path() { return path; }

    /** A streaming request asking for the usage chunk at the end; ignore_eos only when asked (not every server knows it). */
    public ObjectNode body(String model, String prompt, int maxTokens, boolean ignoreEos, double temperature) {
        ObjectNode b = JsonNodeFactory.instance.objectNode();
        b.put("model", model);
        if (this == COMPLETIONS) {
            b.put("prompt", prompt);
            b.put("max_tokens", maxTokens);
        } else {
            b.putArray("messages").addObject().put("role", "user").put("content", prompt);
            b.put("max_completion_tokens", maxTokens);
        }
        b.put("temperature", temperature);
        b.put("stream", true);
        b.putObject("stream_options").put("include_usage", true);
        if (ignoreEos) b.put("ignore_eos", true);
        return b;
    }

    /** The text a chunk adds to the first choice ("" when none: role-only, usage or finish chunks). */
    public String text(JsonNode chunk) {
        JsonNode choices = chunk.path("choices");
        if (!choices.isArray() || choices.isEmpty()) return "";
        JsonNode c = choices.get(0);
        if (this == COMPLETIONS) return c.path("text").asText("");
        JsonNode delta = c.path("delta");
        // Reasoning models stream their thinking first; it is output the user waits for, so it counts.
        // Servers name it reasoning_content (vLLM, ours) or reasoning (newer vLLM); some send both, the same text.
        String reasoning = delta.path("reasoning_content").asText("");
        if (reasoning.isEmpty()) reasoning = delta.path("reasoning").asText("");
        return reasoning + delta.path("content").asText("");
    }
}
