package io.basalt.server.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.FinishReason;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.sampling.Sample;
import java.util.List;

/** /v1/completions: object "text_completion", choices {index, text, logprobs, finish_reason}. */
public final class CompletionFormat extends ResponseFormat {
    private final String echoText;
    private final boolean logprobs;
    private final int lastPromptToken;
    private final TokenLogprobs[] streamed;

    /**
     * @param echoText the prompt text to prepend to every choice, or null (no echo)
     * @param logprobs whether the client asked for logprobs
     */
    public CompletionFormat(OpenAiModel model, String id, String modelName, int numChoices, boolean includeUsage,
                            String echoText, boolean logprobs, int lastPromptToken) {
        super(model, id, "text_completion", "text_completion", modelName, numChoices, includeUsage);
        this.echoText = echoText;
        this.logprobs = logprobs;
        this.lastPromptToken = lastPromptToken;
        this.streamed = new TokenLogprobs[numChoices];
    }

    public static String newId() { return "cmpl-" + java.util.UUID.randomUUID().toString().replace("-", ""); }

    private ObjectNode choice(ObjectNode chunk, int index, String text, ObjectNode lp, FinishReason reason) {
        ObjectNode c = ((ArrayNode) chunk.get("choices")).addObject();
        c.put("index", index);
        c.put("text", text);
        c.set("logprobs", lp);
        c.put("finish_reason", finishReason(reason));
        return chunk;
    }

    @Override
    public List<ObjectNode> start() {
        if (echoText == null || echoText.isEmpty()) return List.of();
        ObjectNode chunk = chunk();
        for (int i = 0; i < numChoices; i++) choice(chunk, i, echoText, null, null);
        return List.of(chunk);
    }

    @Override
    public ObjectNode delta(int choice, int[] tokenIds, String text, List<Sample> samples, boolean last) {
        boolean withLogprobs = logprobs && samples != null && !samples.isEmpty();
        if (text.isEmpty() && !withLogprobs) return null;
        ObjectNode lp = null;
        if (withLogprobs) {
            if (streamed[choice] == null) streamed[choice] = new TokenLogprobs(model, lastPromptToken, 0);
            lp = streamed[choice].completions(samples);
        }
        return choice(chunk(), choice, text, lp, null);
    }

    @Override
    public ObjectNode finish(int choice, FinishReason reason) { return choice(chunk(), choice, "", null, reason); }

    @Override
    public ObjectNode response(RequestHandle.Result result, int promptTokens) {
        ObjectNode r = responseHeader();
        ArrayNode choices = r.putArray("choices");
        int generated = 0;
        for (RequestHandle.Choice c : result.choices()) {
            ObjectNode o = choices.addObject();
            o.put("index", c.index());
            o.put("text", echoText == null ? c.text() : echoText + c.text());
            o.set("logprobs", logprobs ? new TokenLogprobs(model, lastPromptToken, 0).completions(c.logprobs()) : null);
            o.put("finish_reason", finishReason(c.finishReason()));
            generated += c.tokenIds().length;
        }
        r.set("usage", usageJson(promptTokens, generated, -1));
        return r;
    }
}
