package io.basalt.server.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.FinishReason;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.sampling.Sample;
import io.basalt.frontend.tools.Tool;
import io.basalt.frontend.tools.ToolCall;
import io.basalt.frontend.tools.ToolCallEvent;
import io.basalt.frontend.tools.ToolCallIds;
import io.basalt.frontend.tools.ToolCallParser;
import io.basalt.frontend.tools.ToolCallTurn;
import java.util.ArrayList;
import java.util.List;

/**
 * /v1/chat/completions: object "chat.completion" with choices {index, message, logprobs, finish_reason};
 * chunks "chat.completion.chunk" whose first per choice carries {@code delta.role = "assistant"}.
 * The template's parser splits output into {@code content} and (harmony) {@code reasoning_content}.
 *
 * <p>With tools, a {@link ToolCallParser} per choice from the request's {@link ToolOutput} reads the output instead
 * (the template's own format for tool_choice auto, e.g. harmony's): a response's
 * message gets {@code tool_calls} [{id, type "function", function {name, arguments}}] and {@code content} null
 * when there is only calls; a stream opens each call with {@code {index, id, type, function {name, arguments ""}}}
 * and then sends {@code {index, function {arguments}}} fragments, whose concatenation is the response's
 * arguments. finish_reason is the {@link ToolOutput}'s (normally {@code tool_calls}) when the choice stopped after a call;
 * {@code length} when it was cut, even inside a call. Ids come per choice from {@link ToolCallIds#seeded} of the
 * request's seed (the same seed gives the same ids, streamed or not), else {@link ToolCallIds#secure}.
 */
public final class ChatFormat extends ResponseFormat {
    private final ChatTemplate template;
    private final boolean logprobs;
    private final int lastPromptToken;
    private final ChatOutputParser[] parsers;
    private final TokenLogprobs[] streamedLogprobs;
    /** How output becomes tool calls, or null without tools. */
    private final ToolOutput toolOutput;
    private final Long seed;
    private final ToolCallParser[] toolParsers;

    public ChatFormat(OpenAiModel model, String id, String modelName, int numChoices, boolean includeUsage,
                      boolean logprobs, int lastPromptToken) {
        this(model, id, modelName, numChoices, includeUsage, logprobs, lastPromptToken, (ToolOutput) null, null);
    }

    /**
     * @param tools the functions the prompt declared (empty: no tool parsing), read in the model's own call format
     * @param seed  the request's seed, or null
     */
    public ChatFormat(OpenAiModel model, String id, String modelName, int numChoices, boolean includeUsage,
                      boolean logprobs, int lastPromptToken, List<Tool> tools, Long seed) {
        this(model, id, modelName, numChoices, includeUsage, logprobs, lastPromptToken,
                tools.isEmpty() ? null : ToolOutput.auto(model.chatTemplate(), tools), seed);
    }

    /**
     * @param toolOutput how the output becomes tool calls (null: no tool parsing)
     * @param seed       the request's seed, or null
     */
    public ChatFormat(OpenAiModel model, String id, String modelName, int numChoices, boolean includeUsage,
                      boolean logprobs, int lastPromptToken, ToolOutput toolOutput, Long seed) {
        super(model, id, "chat.completion", "chat.completion.chunk", modelName, numChoices, includeUsage);
        this.template = model.chatTemplate();
        this.logprobs = logprobs;
        this.lastPromptToken = lastPromptToken;
        this.parsers = new ChatOutputParser[numChoices];
        this.streamedLogprobs = new TokenLogprobs[numChoices];
        for (int i = 0; i < numChoices; i++) parsers[i] = template.newParser(lastPromptToken);
        this.seed = seed;
        this.toolOutput = toolOutput;
        if (toolOutput == null) {
            this.toolParsers = null;
        } else {
            this.toolParsers = new ToolCallParser[numChoices];
            for (int i = 0; i < numChoices; i++) toolParsers[i] = toolParser(i);
        }
    }

    private ToolCallParser toolParser(int choice) {
        ToolCallIds ids = seed == null ? ToolCallIds.secure() : ToolCallIds.seeded(seed + 0x9E3779B97F4A7C15L * choice);
        return toolOutput.newParser(ids);
    }

    public static String newId() { return "chatcmpl-" + java.util.UUID.randomUUID().toString().replace("-", ""); }

    private ObjectNode choice(ObjectNode chunk, int index, ObjectNode delta, ObjectNode lp, String reason) {
        ObjectNode c = ((ArrayNode) chunk.get("choices")).addObject();
        c.put("index", index);
        c.set("delta", delta);
        c.set("logprobs", lp);
        c.put("finish_reason", reason);
        return chunk;
    }

    /** The tool output's reason for a choice that stopped (normally {@code tool_calls} after calls); {@code length} (cut) wins. */
    private String finishReason(FinishReason reason, int calls) {
        return reason == FinishReason.STOP && toolOutput != null ? toolOutput.stopReason(calls) : finishReason(reason);
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
        ObjectNode delta;
        if (toolParsers != null) {
            List<ToolCallEvent> events = new ArrayList<>(toolParsers[choice].accept(tokenIds, text));
            if (last) events.addAll(toolParsers[choice].finish());
            delta = toolDelta(events);
            if (delta.isEmpty() && !withLogprobs) return null;
        } else {
            if (d.isEmpty() && !withLogprobs) return null;
            delta = Json.object();
            if (!d.reasoning().isEmpty()) delta.put("reasoning_content", d.reasoning());
            if (!d.content().isEmpty()) delta.put("content", d.content());
        }
        ObjectNode lp = null;
        if (withLogprobs) {
            if (streamedLogprobs[choice] == null) streamedLogprobs[choice] = new TokenLogprobs(model, lastPromptToken, 0);
            lp = streamedLogprobs[choice].chat(samples);
        }
        return choice(chunk(), choice, delta, lp, null);
    }

    /**
     * One chunk's delta from tool-parser events: reasoning and content concatenated, and the call fragments in
     * order (a call's first fragment carries id, type and name with arguments "", even when its arguments
     * follow in the same chunk; consecutive argument fragments of one call are merged).
     */
    static ObjectNode toolDelta(List<ToolCallEvent> events) {
        StringBuilder reasoning = new StringBuilder(), content = new StringBuilder();
        ArrayNode calls = null;
        ObjectNode lastArguments = null;
        int lastIndex = -1;
        for (ToolCallEvent e : events) {
            switch (e) {
                case ToolCallEvent.Content c -> content.append(c.text());
                case ToolCallEvent.Reasoning r -> reasoning.append(r.text());
                case ToolCallEvent.ToolCallStart s -> {
                    if (calls == null) calls = Json.MAPPER.createArrayNode();
                    ObjectNode call = calls.addObject();
                    call.put("index", s.index());
                    call.put("id", s.id());
                    call.put("type", "function");
                    call.putObject("function").put("name", s.name()).put("arguments", "");
                    lastArguments = null;          // the opening fragment keeps arguments ""
                    lastIndex = s.index();
                }
                case ToolCallEvent.ToolCallArguments a -> {
                    if (a.text().isEmpty()) continue;
                    if (lastArguments != null && lastIndex == a.index()) {
                        lastArguments.put("arguments", lastArguments.get("arguments").textValue() + a.text());
                    } else {
                        if (calls == null) calls = Json.MAPPER.createArrayNode();
                        ObjectNode call = calls.addObject();
                        call.put("index", a.index());
                        lastArguments = call.putObject("function").put("arguments", a.text());
                        lastIndex = a.index();
                    }
                }
                case ToolCallEvent.ToolCallEnd ignored -> { }
            }
        }
        ObjectNode delta = Json.object();
        if (!reasoning.isEmpty()) delta.put("reasoning_content", reasoning.toString());
        if (!content.isEmpty()) delta.put("content", content.toString());
        if (calls != null) delta.set("tool_calls", calls);
        return delta;
    }

    private static ChatOutputParser.Delta concat(ChatOutputParser.Delta a, ChatOutputParser.Delta b) {
        if (b.isEmpty()) return a;
        if (a.isEmpty()) return b;
        return new ChatOutputParser.Delta(a.reasoning() + b.reasoning(), a.content() + b.content());
    }

    @Override
    public ObjectNode finish(int choice, FinishReason reason) {
        int calls = toolParsers == null ? 0 : toolParsers[choice].callCount();
        return choice(chunk(), choice, Json.object(), null, finishReason(reason, calls));
    }

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
            int calls = 0;
            if (toolParsers == null) {
                message.put("content", d.content());
                if (!d.reasoning().isEmpty()) message.put("reasoning_content", d.reasoning());
            } else {
                ToolCallTurn turn = toolTurn(c.index(), c.tokenIds(), c.text());
                calls = turn.toolCalls().size();
                if (turn.content().isEmpty() && calls > 0) message.putNull("content");
                else message.put("content", turn.content());
                if (!turn.reasoning().isEmpty()) message.put("reasoning_content", turn.reasoning());
                if (calls > 0) {
                    ArrayNode array = message.putArray("tool_calls");
                    for (ToolCall call : turn.toolCalls()) {
                        ObjectNode t = array.addObject();
                        t.put("id", call.id());
                        t.put("type", "function");
                        t.putObject("function").put("name", call.name()).put("arguments", call.argumentsJson());
                    }
                }
            }
            message.putNull("refusal");
            o.set("logprobs", logprobs ? new TokenLogprobs(model, lastPromptToken, 0).chat(c.logprobs()) : null);
            o.put("finish_reason", finishReason(c.finishReason(), calls));
            generated += c.tokenIds().length;
        }
        r.set("usage", usageJson(promptTokens, generated, reasoning));
        return r;
    }

    /** A whole choice's output read by a fresh tool parser (same ids as the stream for the same seed). */
    private ToolCallTurn toolTurn(int choice, int[] tokenIds, String text) {
        ToolCallParser parser = toolParser(choice);
        List<ToolCallEvent> events = new ArrayList<>(parser.accept(tokenIds, text));
        events.addAll(parser.finish());
        return ToolCallTurn.of(events);
    }
}
