package io.basalt.server.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.FinishReason;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.sampling.Sample;
import java.util.List;

/**
 * Engine output → OpenAI JSON for one request: whole responses and SSE chunks. Streaming calls are
 * stateful per choice (token texts, offsets, harmony parsing carry over between chunks) and come from
 * one thread; {@link #response} starts from fresh state.
 *
 * <p>Every chunk has the request's id, object, created and model; when include_usage was asked, every
 * chunk carries {@code "usage": null} and {@link #usage} is the trailing chunk with empty choices.
 * finish_reason is "stop", "length", or — for a request aborted by the server (timeout, shutdown) —
 * vLLM's non-standard "abort".
 */
public abstract sealed class ResponseFormat permits CompletionFormat, ChatFormat {
    protected final OpenAiModel model;
    private final String id;
    private final String object;
    private final String chunkObject;
    private final long created;
    private final String modelName;
    protected final int numChoices;
    private final boolean includeUsage;

    ResponseFormat(OpenAiModel model, String id, String object, String chunkObject, String modelName, int numChoices,
                   boolean includeUsage) {
        this.model = model;
        this.id = id;
        this.object = object;
        this.chunkObject = chunkObject;
        this.created = System.currentTimeMillis() / 1000;
        this.modelName = modelName;
        this.numChoices = numChoices;
        this.includeUsage = includeUsage;
    }

    /** The response id ("cmpl-…", "chatcmpl-…"), also the engine's request id. */
    public String id() { return id; }

    public int numChoices() { return numChoices; }

    /** Chunks sent before any token. */
    public abstract List<ObjectNode> start();

    /**
     * A chunk for a choice's new output (several engine deltas merged when the client fell behind),
     * or null when there is nothing to send.
     *
     * @param last the choice has finished: flush anything held back
     */
    public abstract ObjectNode delta(int choice, int[] tokenIds, String text, List<Sample> logprobs, boolean last);

    /** The chunk that ends a choice. */
    public abstract ObjectNode finish(int choice, FinishReason reason);

    /** The whole non-streaming response. */
    public abstract ObjectNode response(RequestHandle.Result result, int promptTokens);

    /** The trailing usage chunk (stream_options.include_usage): empty choices, usage filled. */
    public ObjectNode usage(int promptTokens, int completionTokens) {
        ObjectNode c = chunk();
        c.set("usage", usageJson(promptTokens, completionTokens, reasoningTokens()));
        return c;
    }

    /** Reasoning tokens streamed so far, or -1 where the template has no reasoning. */
    protected int reasoningTokens() { return -1; }

    protected ObjectNode chunk() {
        ObjectNode c = header(chunkObject);
        c.putArray("choices");
        if (includeUsage) c.putNull("usage");
        return c;
    }

    protected ObjectNode header(String objectName) {
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("object", objectName);
        o.put("created", created);
        o.put("model", modelName);
        o.putNull("system_fingerprint");
        return o;
    }

    protected ObjectNode responseHeader() { return header(object); }

    static ObjectNode usageJson(int prompt, int completion, int reasoning) {
        ObjectNode u = Json.object();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        if (reasoning >= 0) u.putObject("completion_tokens_details").put("reasoning_tokens", reasoning);
        return u;
    }

    static String finishReason(FinishReason r) { return r == null ? null : r.openAiName(); }
}
