package io.basalt.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import io.basalt.server.openai.ChatFormat;
import io.basalt.server.openai.ChatRequest;
import io.basalt.server.openai.ChatTemplate;
import io.basalt.server.openai.Json;
import io.basalt.server.openai.OpenAiException;
import io.basalt.server.openai.OpenAiModel;
import io.basalt.server.openai.ToolChoicePlan;

/**
 * POST /v1/chat/completions: like {@link CompletionsHandler}, with the prompt rendered by the model's
 * chat template (harmony, Jinja or plain; see {@link io.basalt.server.openai.ChatTemplate}).
 * max_tokens / max_completion_tokens default to the rest of the context, as in vLLM; an explicit one
 * beyond the context is a 400. A tool_choice of required or a named function constrains the output to the calls
 * ({@link ToolChoicePlan}).
 */
final class ChatCompletionsHandler {
    private final ServerContext context;

    ChatCompletionsHandler(ServerContext context) { this.context = context; }

    /**
     * A tool turn also ends at the template's end-of-call tokens (harmony's {@code <|call|>} and {@code <|return|>},
     * Llama 3's {@code <|eom_id|>}), whatever EOS the model declares.
     */
    private static SamplingParams withToolStops(OpenAiModel model, SamplingParams params) {
        int[] extra = model.chatTemplate().toolStopIds();
        if (extra.length == 0) return params;
        int[] stops = params.stopTokenIds();
        int[] more = java.util.Arrays.copyOf(stops, stops.length + extra.length);
        System.arraycopy(extra, 0, more, stops.length, extra.length);
        return params.toBuilder().stopTokenIds(more).build();
    }

    void handle(Exchange ex) {
        OpenAiModel model = context.model;
        ObjectNode body = Json.parseObject(ex.body());
        ChatRequest req = ChatRequest.parse(body, model.vocab());
        String name = model.resolve(req.model());
        if (!req.tools().isEmpty() && !model.chatTemplate().supportsTools()) {
            throw OpenAiException.unsupported("tools", ChatTemplate.TOOLS_UNSUPPORTED);
        }
        ToolChoicePlan plan = ToolChoicePlan.of(model, req);
        ex.offload(context, () -> {
            int[] prompt = plan.prompt(model.renderChat(req.messages(), req.reasoningEffort(), req.addGenerationPrompt(),
                    req.activeTools()));
            model.checkInVocabulary(prompt, "messages");
            model.checkFits(prompt.length, "messages");
            SamplingParams params = req.sampling().toParams(prompt.length, "messages", model.contextLength(), 0, req.logprobs(),
                    req.topLogprobs(), "top_logprobs");
            params = plan.apply(params);
            if (!req.activeTools().isEmpty()) params = withToolStops(model, params);
            ChatFormat format = new ChatFormat(model, ChatFormat.newId(), name, params.n(), req.stream() && req.includeUsage(),
                    req.logprobs(), prompt[prompt.length - 1], plan.toolOutput(), req.seed());
            Generation.Delivery delivery = Generation.Delivery.of(req.stream(), req.includeUsage());
            try {
                new Generation(ex, context.service, format, delivery, prompt.length)
                        .submit(prompt, params, req.sampling().priority());
            } catch (io.basalt.structured.SchemaException e) {
                // the tools' parameters made the grammar (tool_choice required/named, strict tools): the 400 names tools
                if (plan.constraint() == null) throw e;
                throw OpenAiException.invalid("tools", "Invalid schema in tools' parameters: " + e.getMessage());
            }
        }, "messages");
    }
}
