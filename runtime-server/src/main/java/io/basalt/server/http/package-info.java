/**
 * The OpenAI-compatible HTTP server (Netty 4.2), started with
 * {@link io.basalt.server.http.HttpServer#start(io.basalt.server.InferenceService, io.basalt.server.ServerConfig)}.
 *
 * <h2>Endpoints</h2>
 * <ul>
 *   <li>POST /v1/completions, POST /v1/chat/completions — streamed (SSE) or whole;</li>
 *   <li>GET /v1/models, GET /v1/models/{id};</li>
 *   <li>POST /tokenize ({"model","prompt"} or {"model","messages"} → {"tokens","count","max_model_len"}),
 *       POST /detokenize ({"model","tokens"} → {"prompt"});</li>
 *   <li>GET /health (200 while the process serves), GET /ready (200 when the model is loaded and the
 *       server is not draining, else 503), GET /metrics (Prometheus text, version 0.0.4).</li>
 * </ul>
 * With an API key configured, every endpoint but /health, /ready and /metrics needs
 * {@code Authorization: Bearer <key>} (401 otherwise, also for unknown paths).
 *
 * <h2>Status codes</h2>
 * Every error body is {@code {"error":{"message","type","param","code"}}}: 400 invalid JSON or values
 * (param names the field), 401 missing/wrong key, 404 unknown model (code model_not_found) or path,
 * 405 wrong method, 413 body over {@code maxBodyBytes}, 429 + {@code Retry-After: 1} when admission is
 * full or the server is draining, 500 only for server bugs and engine failures, 503 when the engine
 * is shut down. After a stream has started, an engine failure is an SSE {@code data: {"error":…}} event.
 *
 * <h2>Files</h2>
 * {@code HttpServer} binds and shuts down; {@code HttpServerInitializer} builds the pipeline;
 * {@code BodyLimitAggregator} turns oversized bodies into OpenAI-shaped 413s; {@code Router} routes,
 * authenticates and serializes a connection's requests; {@code Exchange} is one request/response;
 * {@code CompletionsHandler}, {@code ChatCompletionsHandler}, {@code ModelsHandler},
 * {@code TokenizeHandler}, {@code HealthHandler} are the endpoint families; {@code Generation} streams
 * one request with backpressure and cancellation (STYLE.md §1.11); {@code OpenAiErrors} writes errors.
 * JSON ↔ engine types live in {@link io.basalt.server.openai}.
 */
package io.basalt.server.http;
