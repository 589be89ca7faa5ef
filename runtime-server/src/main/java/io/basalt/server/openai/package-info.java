/**
 * OpenAI / vLLM request and response JSON ↔ Basalt's engine types, independent of the transport.
 *
 * <ul>
 *   <li>Requests: {@link io.basalt.server.openai.CompletionRequest}, {@link io.basalt.server.openai.ChatRequest}
 *       and the shared {@link io.basalt.server.openai.SamplingRequest} type-check the body (an unknown
 *       top-level field is a 400 "Unrecognized request argument supplied", as in OpenAI's API; unsupported
 *       OpenAI features such as tools on a template that cannot take them, tool_choice allowed_tools, suffix or best_of ≠ n are a 400 rather than
 *       silently ignored). Bad JSON is described in words of our own ({@link io.basalt.server.openai.Json#describe}).</li>
 *   <li>Context: a prompt that fills the model's context is a 400, never truncated; so is an explicit
 *       max_tokens beyond the room left (code context_length_exceeded, vLLM's message). Unset max_tokens
 *       is 16 capped to the room for completions (OpenAI) and the rest of the context for chat (vLLM).</li>
 *   <li>Chat templates ({@link io.basalt.server.openai.ChatTemplate}): gpt-oss → harmony (analysis →
 *       reasoning_content, other channels → content, reasoning_effort low/medium/high); a model that ships a
 *       Jinja template (or one given with --chat-template) → Jinjava, tools read in its {@link
 *       io.basalt.frontend.tools.ToolCallFormat} (hermes, llama3_json); otherwise the plain "role: content" lines of
 *       {@link io.basalt.server.openai.PlainChatTemplate}.</li>
 *   <li>Responses: {@link io.basalt.server.openai.CompletionFormat} and {@link io.basalt.server.openai.ChatFormat}
 *       build whole responses and SSE chunks, logprobs in the legacy and chat shapes.</li>
 * </ul>
 */
package io.basalt.server.openai;
