package io.basalt.cli;

import io.basalt.model.layout.LoadOptions;
import io.basalt.parity.Comparison;
import io.basalt.parity.DumpMetadata;
import io.basalt.parity.LogitsImport;
import io.basalt.parity.LogitsMode;
import io.basalt.parity.ParityComparator;
import io.basalt.parity.ParityDump;
import io.basalt.parity.ParityInputException;
import io.basalt.parity.ParityRecorder;
import io.basalt.parity.ParityReport;
import io.basalt.parity.Precision;
import io.basalt.parity.Thresholds;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code basalt parity run | compare | import-logits}: the precision-verification harness (io.basalt.parity). */
@Command(name = "parity", mixinStandardHelpOptions = true,
        description = "Record logits and hidden states on a backend, and compare two such dumps (numerical parity).",
        subcommands = {ParityCommand.Run.class, ParityCommand.Compare.class, ParityCommand.ImportLogits.class})
final class ParityCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(spec.commandLine().getErr()); }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run prompts through a backend (prompt teacher-forced, then greedy) and record a dump.")
    static final class Run implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ModelSource model;

        @Mixin
        BackendOption backend;

        @Mixin
        CompiledOption compiled;

        @Mixin
        WeightOptions weights;

        @Option(names = "--tokenizer", description = "Tokenizer file for text prompts; found beside the model when omitted.")
        Path tokenizer;

        @Option(names = "--prompts", required = true, paramLabel = "FILE",
                description = "JSONL, one prompt a line: {\"prompt\": \"text\"} or {\"tokens\": [ids]}.")
        Path prompts;

        @Option(names = "--out", required = true, paramLabel = "DUMP", description = "The dump to write (safetensors).")
        Path out;

        @Option(names = "--max-tokens", defaultValue = "16", description = "Greedy tokens after each prompt (default: ${DEFAULT-VALUE}).")
        int maxTokens;

        @Option(names = "--logits", defaultValue = "full", paramLabel = "full|topk:K",
                description = "Store whole logit rows or only the K largest (default: ${DEFAULT-VALUE}).")
        String logits;

        @Option(names = "--hidden", defaultValue = "all", paramLabel = "all|none",
                description = "Record each layer's hidden state (default: ${DEFAULT-VALUE}).")
        String hidden;

        @Option(names = "--kv-cache-memory", defaultValue = "128MiB",
                description = "KV cache for one sequence of prompt + max-tokens positions (default: ${DEFAULT-VALUE}).")
        String kvCacheMemory;

        @Override
        public Integer call() {
            LoadOptions load = weights.toLoadOptions();
            boolean recordHidden = switch (hidden.strip().toLowerCase(Locale.ROOT)) {
                case "all" -> true;
                case "none" -> false;
                default -> throw new ParityInputException("unknown --hidden '" + hidden + "' (expected all or none)");
            };
            OutputFile.check("--out", out);
            Path compiledDir = compiled.checked();
            PrintWriter err = spec.commandLine().getErr();
            long t0 = System.nanoTime();
            Path path = model.resolve(model.reference(null));
            DumpMetadata meta = ParityRecorder.run(new ParityRecorder.Request(path, backend.name(), load,
                    tokenizer, prompts, out, maxTokens, LogitsMode.parse(logits), recordHidden,
                    ServeCommand.parseBytes("--kv-cache-memory", kvCacheMemory), compiledDir), line -> err.println("[basalt] " + line));
            err.printf("[basalt] wrote %s: %d prompt(s), %s logits%s, model hash %s, in %.1f s%n", out, meta.prompts().size(), meta.logits(),
                    meta.hasHidden() ? " + hidden states of " + meta.numLayers() + " layers" : "", meta.modelHash(), (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Compare two dumps (A is the reference). Exit 0 within the thresholds, 1 past one, 2 on bad input.")
    static final class Compare implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(arity = "2", paramLabel = "DUMP", description = "Dump A (reference) and dump B.")
        List<Path> dumps;

        @Option(names = "--threshold", split = ",", paramLabel = "NAME=VALUE",
                description = "Override a limit, e.g. max_abs=1e-3 (repeatable). Names: max_abs, mean_abs, max_rel, mean_rel, min_cosine, "
                        + "max_kl, mean_kl, min_top1, min_top5, max_hidden_rel_rms.")
        List<String> thresholds = new ArrayList<>();

        @Option(names = "--dtype-defaults", paramLabel = "fp32|f16|bf16|q8_0",
                description = "Default thresholds of this precision (default: the less precise dump's).")
        String dtypeDefaults;

        @Option(names = "--report", paramLabel = "FILE.html", description = "Write an HTML report with plots.")
        Path html;

        @Option(names = "--markdown", paramLabel = "FILE.md", description = "Write a Markdown report.")
        Path markdown;

        @Override
        public Integer call() {
            if (markdown != null) OutputFile.check("--markdown", markdown);
            if (html != null) OutputFile.check("--report", html);
            try (ParityDump a = ParityDump.open(dumps.get(0)); ParityDump b = ParityDump.open(dumps.get(1))) {
                Precision basis;
                String note;
                if (dtypeDefaults != null) {
                    basis = Precision.parse(dtypeDefaults);
                    note = basis.label() + " defaults (--dtype-defaults)";
                } else {
                    basis = Precision.lessPrecise(a.metadata().precisionClass(), b.metadata().precisionClass());
                    note = basis.label() + " defaults (the less precise dump's)";
                }
                Thresholds limits = Thresholds.defaults(basis).with(thresholds);
                if (!thresholds.isEmpty()) note += ", overridden: " + String.join(", ", thresholds);
                Comparison c = ParityComparator.compare(a, b);
                ParityReport report = new ParityReport(c, limits, dumps.get(0).toString(), dumps.get(1).toString(), note);
                if (markdown != null) write(markdown, report.markdown());
                if (html != null) write(html, report.html());
                spec.commandLine().getOut().print(report.text());
                spec.commandLine().getOut().flush();
                return report.passed() ? 0 : 1;
            }
        }

        private static void write(Path file, String content) {
            try {
                Files.writeString(file, content, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
            }
        }
    }

    @Command(name = "import-logits", mixinStandardHelpOptions = true,
            description = "Wrap a peer implementation's raw float32 logits (and residual stream) as a dump.")
    static final class ImportLogits implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--logits", required = true, paramLabel = "FILE.f32", description = "Little-endian float32 logits, row-major [P, V].")
        Path logits;

        @Option(names = "--shape", required = true, split = ",", paramLabel = "P,V", description = "Positions and vocabulary size.")
        List<Integer> shape;

        @Option(names = "--tokens", required = true, split = ",", description = "The P input token ids, e.g. 0,17,999.")
        List<Integer> tokens;

        @Option(names = "--hidden", paramLabel = "FILE.f32", description = "Little-endian float32 hidden state after each block [L, P, H].")
        Path hidden;

        @Option(names = "--hidden-shape", split = ",", paramLabel = "L,P,H", description = "Layers, positions and width of --hidden.")
        List<Integer> hiddenShape;

        @Option(names = "--dtype", defaultValue = "fp32", paramLabel = "fp32|f16|bf16",
                description = "Precision the peer ran in (picks default thresholds; default: ${DEFAULT-VALUE}).")
        String dtype;

        @Option(names = "--source", required = true, description = "What produced the numbers, e.g. \"openai/gpt-oss torch reference, bf16\".")
        String source;

        @Option(names = "--out", required = true, paramLabel = "DUMP", description = "The dump to write.")
        Path out;

        @Override
        public Integer call() {
            if (shape.size() != 2) throw new ParityInputException("--shape needs two numbers P,V, got " + shape);
            OutputFile.check("--out", out);
            int layers = 0;
            int width = 0;
            if ((hidden == null) != (hiddenShape == null)) throw new ParityInputException("--hidden and --hidden-shape go together");
            if (hiddenShape != null) {
                if (hiddenShape.size() != 3) throw new ParityInputException("--hidden-shape needs three numbers L,P,H, got " + hiddenShape);
                if (!hiddenShape.get(1).equals(shape.get(0))) {
                    throw new ParityInputException("--hidden-shape has " + hiddenShape.get(1) + " positions, --shape " + shape.get(0));
                }
                layers = hiddenShape.get(0);
                width = hiddenShape.get(2);
            }
            DumpMetadata meta = LogitsImport.run(new LogitsImport.Request(logits, shape.get(0), shape.get(1),
                    tokens.stream().mapToInt(Integer::intValue).toArray(), hidden, layers, width, dtype, source, out));
            spec.commandLine().getErr().printf("[basalt] wrote %s: %d positions × %d logits%s (%s)%n", out, shape.get(0), shape.get(1),
                    meta.hasHidden() ? " + hidden states of " + layers + " layers" : "", meta.precision());
            return 0;
        }
    }
}
