package io.basalt.cli;

import io.basalt.api.SamplingParams;
import io.basalt.engine.Generator;
import io.basalt.frontend.ModelTokenizer;
import io.basalt.model.arch.LoadOptions;
import io.basalt.model.arch.Model;
import io.basalt.model.arch.ModelLoader;
import io.basalt.tokenizer.IncrementalDecoder;
import io.basalt.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Streams generated text to stdout; timing goes to stderr. */
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
    WeightOptions weights;

    @Override
    public Integer call() {
        LoadOptions options = weights.toLoadOptions();
        SamplingParams.Builder builder = SamplingParams.builder().temperature(temperature).topP(topP).maxTokens(maxTokens);
        if (seed != null) builder.seed(seed);
        SamplingParams params = builder.build();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        Path path = model.resolve(model.reference(null));
        try (Model m = ModelLoader.load(path, options)) {
            Tokenizer tok = ModelTokenizer.forModel(m.info(), tokenizer);
            int[] ids = ModelTokenizer.promptIds(m.info(), tok, prompt);
            long loaded = System.nanoTime() - t0;
            IncrementalDecoder decoder = new IncrementalDecoder(tok, ids[ids.length - 1]);
            Generator.Result r = Generator.generate(m, ids, params, tok.eosIds(), id -> {
                out.print(decoder.next(id));
                out.flush();
            });
            out.print(decoder.flush());
            out.flush();
            err.printf("%n[basalt] %s%s: load %.0f ms, prompt %d tokens in %.1f ms, generated %d tokens in %.1f ms (%.1f tok/s), finish=%s%n",
                    m.info().architecture(), options.equals(LoadOptions.DEFAULT) ? "" : " (" + options.describe() + ")", loaded / 1e6, r.numPromptTokens(), r.prefillNanos() / 1e6, r.tokens().length,
                    r.decodeNanos() / 1e6, r.decodeTokensPerSecond(), r.finishReason().openAiName());
        }
        return 0;
    }

}
