package io.basalt.cli;

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
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Streams generated text to stdout; timing goes to stderr. One request through the same engine {@code serve} runs
 * (scheduler, KV manager, sampler), on any backend: there is no second generation loop.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate text from a prompt and stream it to stdout (statistics go to stderr).")
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelSource model;

    @Option(names = "--tokenizer", description = "Tokenizer file (tokenizer.json or llama2.c tokenizer.bin); found beside the model when omitted.")
    Path tokenizer;

    @Option(names = "--prompt", defaultValue = "", description = "Prompt text; empty starts from BOS (default: empty).")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Maximum number of tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling probability mass in (0, 1] (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", description = "Random seed for sampling (default: time-based).")
    Long seed;

    @Mixin
    BackendOption backend;

    @Option(names = "--kv-cache-memory", defaultValue = "512MiB",
            description = "Memory for the KV cache; must hold the prompt and the generated tokens (default: ${DEFAULT-VALUE}).")
    String kvCacheMemory;

    @Mixin
    WeightOptions weights;

    @Override
    public Integer call() {
        LoadOptions options = weights.toLoadOptions();
        long kvBytes = ServeCommand.parseBytes("--kv-cache-memory", kvCacheMemory);
        SamplingParams.Builder builder = SamplingParams.builder().temperature(temperature).topP(topP).maxTokens(maxTokens);
        if (seed != null) builder.seed(seed);
        SamplingParams params = builder.build();
        if (tokenizer != null && !Files.isRegularFile(tokenizer)) throw new IllegalArgumentException("--tokenizer " + tokenizer + ": no such file");
        Path path = model.resolve(model.reference(null));
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();

        ModelInfo info = ModelInfo.describe(path);
        Tokenizer tok = ModelTokenizer.forModel(info, tokenizer);
        int[] ids = ModelTokenizer.promptIds(info, tok, prompt);
        if (ids.length >= info.maxPositions()) {
            throw new IllegalArgumentException("the prompt has " + ids.length + " tokens; this model's context length is " + info.maxPositions());
        }
        // One sequence: serve only the context it can reach, so the KV cache needs no more than that.
        int context = (int) Math.min(info.maxPositions(), (long) ids.length + maxTokens);
        EngineConfig config = new EngineConfig(1, Math.max(ids.length, 256), kvBytes, false, Math.max(2, context));
        long t0 = System.nanoTime();
        try (Backend b = Backends.open(backend.name())) {
            ModelRunner runner = b.load(path, new Backend.LoadConfig(kvBytes, 1, config.maxNumBatchedTokens(),
                    options.storage(), options.quantize()));
            long loaded = System.nanoTime() - t0;
            try (Engine engine = new Engine(runner, tok, config)) { // closes the runner
                RequestHandle h = engine.submit(new EngineRequest("generate", ids, params, 0), e -> {
                    if (e instanceof StreamEvent.Delta d) out.print(d.text());
                    else if (e instanceof StreamEvent.Finished f) out.print(f.text());
                    out.flush();
                });
                engine.runUntilIdle(); // this thread steps the engine: the listener prints on it
                RequestHandle.Result r = h.result().join();
                RequestHandle.Choice choice = r.choices().getFirst();
                if (choice.error() != null) throw new IllegalStateException(choice.error());
                RequestHandle.Timeline t = r.timeline();
                double decodeSeconds = Double.isNaN(t.decodeSeconds()) ? 0 : t.decodeSeconds();
                int generated = r.numGeneratedTokens();
                err.printf(Locale.ROOT, "%n[basalt] %s on %s%s: load %.0f ms, prompt %d tokens in %.1f ms, generated %d tokens in %.1f ms "
                                + "(%.1f tok/s), finish=%s%n", info.architecture(), b.name(),
                        options.equals(LoadOptions.DEFAULT) ? "" : " (" + options.describe() + ")", loaded / 1e6, ids.length,
                        Double.isNaN(t.prefillSeconds()) ? 0 : t.prefillSeconds() * 1e3, generated, decodeSeconds * 1e3,
                        generated > 1 && decodeSeconds > 0 ? (generated - 1) / decodeSeconds : 0, choice.finishReason().openAiName());
            }
        }
        return 0;
    }
}
