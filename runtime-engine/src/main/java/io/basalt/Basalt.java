package io.basalt;

import io.basalt.api.SamplingParams;
import io.basalt.backend.cpu.CpuBackend;
import io.basalt.backend.cpu.CpuModelRunner;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.RequestHandle;
import io.basalt.engine.StreamEvent;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.arch.LoadOptions;
import io.basalt.spi.Backend;
import io.basalt.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The embedded library API: load a model on the CPU backend, start the continuous-batching engine,
 * and submit text or token prompts from any thread.
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
    private final Tokenizer tokenizer;
    private final io.basalt.model.arch.ModelInfo info;

    private Basalt(Engine engine, Tokenizer tokenizer, io.basalt.model.arch.ModelInfo info) {
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.info = info;
    }

    /** Loads the model (any supported format) with its own tokenizer and starts the engine thread. */
    public static Basalt open(Path model, EngineConfig config) { return open(model, config, LoadOptions.DEFAULT); }

    /** As {@link #open(Path, EngineConfig)}, storing the weight matrices as {@code weights} asks (e.g. bf16, q8_0). */
    public static Basalt open(Path model, EngineConfig config, LoadOptions weights) {
        CpuModelRunner runner = new CpuBackend().load(model, new Backend.LoadConfig(config.kvCacheMemoryBytes(),
                config.maxNumSeqs(), config.maxNumBatchedTokens(), weights.storage().name(), weights.quantize().name()));
        try {
            var info = runner.model().info();
            Tokenizer tokenizer = ModelTokenizer.forModel(info, null);
            return new Basalt(new Engine(runner, tokenizer, config).start(), tokenizer, info);
        } catch (RuntimeException e) {
            runner.close();
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

    @Override
    public void close() { engine.close(); }
}
