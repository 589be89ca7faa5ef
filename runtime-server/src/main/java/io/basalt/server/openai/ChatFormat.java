package io.basalt.server.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.FinishReason;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.sampling.Sample;
import java.util.List;

/**
 * /v1/chat/completions: object "chat.completion" with choices {index, message, logprobs, finish_reason};
 * chunks "chat.completion.chunk" whose first per choice carries {@code delta.role = "assistant"}.
 * The template's parser splits output into {@code content} and (harmony) {@code reasoning_content}.
 */
public final class ChatFormat extends ResponseFormat {
    private final ChatTemplate template;
    private final boolean logprobs;
    private final int lastPromptToken;
    private final ChatOutputParser[] parsers;
    private final TokenLogprobs[] streamedLogprobs;

    public ChatFormat(OpenAiModel model, String id, String modelName, int numChoices, boolean includeUsage,
                      boolean logprobs, int lastPromptToken) {
        super(model, id, "chat.completion", "chat.completion.chunk", modelName, numChoices, includeUsage);
        this.template = model.chatTemplate();
        this.logprobs = logprobs;
        this.lastPromptToken = lastPromptToken;
        this.parsers = new ChatOutputParser[numChoices];
        this.streamedLogprobs = new TokenLogprobs[numChoices];
        for (int i = 0; i < numChoices; i++) parsers[i] = template.newParser(lastPromptToken);
    }

    public static String newId() { return "chatcmpl-" + java.util.UUID.randomUUID().toString().replace("-", ""); }

    private ObjectNode choice(ObjectNode chunk, int index, ObjectNode delta, ObjectNode lp, FinishReason reason) {
        ObjectNode c = ((ArrayNode) chunk.get("choices")).addObject();
        c.put("index", index);
        c.set("delta", delta);
        c.set("logprobs", lp);
        c.put("finish_reason", finishReason(reason));
        return chunk;
    }

    @Override
    public List<ObjectNode> start() {
        ObjectNode chunk = chunk();
        for (int i = 0; i < numChoices; i++) {
            ObjectNode delta = Json.object();
            delta.put("role", "assistant");
            delta.put("content", "");
            choice(chunk, i, delta, null, null);
        }
        return List.of(chunk);
    }

    @Override
    public ObjectNode delta(int choice, int[] tokenIds, String text, List<Sample> samples, boolean last) {
        ChatOutputParser.Delta d = parsers[choice].accept(tokenIds, text);
        if (last) d = concat(d, parsers[choice].finish());
        boolean withLogprobs = logprobs && samples != null && !samples.isEmpty();
        if (d.isEmpty() && !withLogprobs) return null;
        ObjectNode delta = Json.object();
        if (!d.reasoning().isEmpty()) delta.put("reasoning_content", d.reasoning());
        if (!d.content().isEmpty()) delta.put("content", d.content());
        ObjectNode lp = null;
        if (withLogprobs) {
            if (streamedLogprobs[choice] == null) streamedLogprobs[choice] = new TokenLogprobs(model, lastPromptToken, 0);
            lp = streamedLogprobs[choice].chat(samples);
        }
        return choice(chunk(), choice, delta, lp, null);
    }

    private static ChatOutputParser.Delta concat(ChatOutputParser.Delta a, ChatOutputParser.Delta b) {
        if (b.isEmpty()) return a;
        if (a.isEmpty()) return b;
        return new ChatOutputParser.Delta(a.reasoning() + b.reasoning(), a.content() + b.content());
    }

    @Override
    public ObjectNode finish(int choice, FinishReason reason) { return choice(chunk(), choice, Json.object(), null, reason); }

    @Override
    protected int reasoningTokens() {
        int sum = 0;
        for (ChatOutputParser p : parsers) {
            if (p.reasoningTokens() < 0) return -1;
            sum += p.reasoningTokens();
        }
        return sum;
    }

    @Override
    public ObjectNode response(RequestHandle.Result result, int promptTokens) {
        ObjectNode r = responseHeader();
        ArrayNode choices = r.putArray("choices");
        int generated = 0, reasoning = 0;
        for (RequestHandle.Choice c : result.choices()) {
            ChatOutputParser parser = template.newParser(lastPromptToken);
            ChatOutputParser.Delta d = concat(parser.accept(c.tokenIds(), c.text()), parser.finish());
            reasoning = parser.reasoningTokens() < 0 || reasoning < 0 ? -1 : reasoning + parser.reasoningTokens();
            ObjectNode o = choices.addObject();
            o.put("index", c.index());
            ObjectNode message = o.putObject("message");
            message.put("role", "assistant");
            message.put("content", d.content());
            if (!d.reasoning().isEmpty()) message.put("reasoning_content", d.reasoning());
            message.putNull("refusal");
            o.set("logprobs", logprobs ? new TokenLogprobs(model, lastPromptToken, 0).chat(c.logprobs()) : null);
            o.put("finish_reason", finishReason(c.finishReason()));
            generated += c.tokenIds().length;
        }
        r.set("usage", usageJson(promptTokens, generated, reasoning));
        return r;
    }
}
