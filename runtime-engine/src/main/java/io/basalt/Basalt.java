package io.basalt;

import io.basalt.api.SamplingParams;
import io.basalt.backend.Backends;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.StreamEvent;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.layout.LoadOptions;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.Backend;
import io.basalt.spi.ModelRunner;
import io.basalt.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The embedded library API: load a model on a backend (the CPU one unless told), start the continuous-batching
 * engine, and submit text or token prompts from any thread. Backends are found on the class path
 * ({@link Backends}); this class names none.
 *
 * <pre>{@code
 * try (Basalt llm = Basalt.open(Path.of("model-dir"), EngineConfig.defaults())) {
 *     String text = llm.complete("Once upon a time", SamplingParams.builder().maxTokens(64).build())
 *             .join().choices().get(0).text();
 * }
 * }</pre>
 */
public final class Basalt implements AutoCloseable {
    private final Engine engine;
    private final Backend backend;
    private final Tokenizer tokenizer;
    private final ModelInfo info;

    private Basalt(Engine engine, Backend backend, Tokenizer tokenizer, ModelInfo info) {
        this.engine = engine;
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.info = info;
    }

    /** The backend {@link #open(Path, EngineConfig)} uses. */
    public static final String DEFAULT_BACKEND = "cpu";

    /** Loads the model (any supported format) on the CPU backend with its own tokenizer and starts the engine thread. */
    public static Basalt open(Path model, EngineConfig config) { return open(model, config, LoadOptions.DEFAULT); }

    /** As {@link #open(Path, EngineConfig)}, storing the weight matrices as {@code weights} asks (e.g. bf16, q8_0). */
    public static Basalt open(Path model, EngineConfig config, LoadOptions weights) {
        return open(model, config, weights, DEFAULT_BACKEND);
    }

    /** As {@link #open(Path, EngineConfig, LoadOptions)} on the named backend (cpu, torch, …). */
    public static Basalt open(Path model, EngineConfig config, LoadOptions weights, String backendName) {
        ModelInfo info = ModelInfo.describe(model);
        Tokenizer tokenizer = ModelTokenizer.forModel(info, null);
        Backend backend = Backends.open(backendName);
        ModelRunner runner;
        try {
            runner = backend.load(model, new Backend.LoadConfig(config.kvCacheMemoryBytes(), config.maxNumSeqs(),
                    config.maxNumBatchedTokens(), weights.storage(), weights.quantize()));
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
        try {
            return new Basalt(new Engine(runner, tokenizer, config).start(), backend, tokenizer, info);
        } catch (RuntimeException e) {
            runner.close();
            backend.close();
            throw e;
        }
    }

    public Engine engine() { return engine; }

    public Tokenizer tokenizer() { return tokenizer; }

    /** Tokenizes like the CLI: Llama-family prompts start with BOS, an empty prompt is just BOS. */
    public int[] encodePrompt(String prompt) { return ModelTokenizer.promptIds(info, tokenizer, prompt); }

    /** Submits a text prompt; the future completes with every choice's tokens, text and finish reason. */
    public java.util.concurrent.CompletableFuture<RequestHandle.Result> complete(String prompt, SamplingParams params) {
        return submit(encodePrompt(prompt), params, e -> { }).result();
    }

    /** Submits token ids with a listener that sees each delta as it is produced (on the engine thread). */
    public RequestHandle submit(int[] promptTokens, SamplingParams params, Consumer<StreamEvent> listener) {
        return engine.submit(new EngineRequest(UUID.randomUUID().toString(), promptTokens, params, 0), listener);
    }

    /** Stops the engine (requests in flight end with ABORT), unloads the model and closes the backend. */
    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            backend.close();
        }
    }
}
