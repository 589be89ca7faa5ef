package io.basalt.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.api.SamplingParams;
import io.basalt.server.openai.CompletionFormat;
import io.basalt.server.openai.CompletionRequest;
import io.basalt.server.openai.Json;
import io.basalt.server.openai.OpenAiModel;

/**
 * POST /v1/completions. On the event loop: parse and type-check the body, check the model. On the
 * preparation pool: tokenize, fit to the context, build the sampling parameters, submit. Then
 * {@link Generation} answers (streamed or whole). max_tokens defaults to 16 (capped to the room the
 * prompt leaves), as in OpenAI's API; an explicit one beyond the context is a 400.
 */
final class CompletionsHandler {
    static final int DEFAULT_MAX_TOKENS = 16;

    private final ServerContext context;

    CompletionsHandler(ServerContext context) { this.context = context; }

    void handle(Exchange ex) {
        OpenAiModel model = context.model;
        ObjectNode body = Json.parseObject(ex.body());
        CompletionRequest req = CompletionRequest.parse(body, model.vocab());
        String name = model.resolve(req.model());
        ex.offload(context, () -> {
            CompletionRequest.Prompt p = req.prompt();
            int[] prompt;
            if (p.text() != null) {
                prompt = model.encodePrompt(p.text(), "prompt");
            } else {
                prompt = p.tokenIds();
                model.checkFits(prompt.length, "prompt");
            }
            boolean logprobs = req.logprobs() != null;
            SamplingParams params = req.sampling().toParams(prompt.length, "prompt", model.contextLength(), DEFAULT_MAX_TOKENS, logprobs,
                    logprobs ? req.logprobs() : 0, "logprobs");
            String echo = !req.echo() ? null : p.text() != null ? p.text() : model.tokenizer().decode(prompt);
            CompletionFormat format = new CompletionFormat(model, CompletionFormat.newId(), name, params.n(),
                    req.stream() && req.includeUsage(), echo, logprobs, prompt[prompt.length - 1]);
            Generation.Delivery delivery = Generation.Delivery.of(req.stream(), req.includeUsage());
            new Generation(ex, context.service, format, delivery, prompt.length)
                    .submit(prompt, params, req.sampling().priority());
        }, "prompt");
    }
}
