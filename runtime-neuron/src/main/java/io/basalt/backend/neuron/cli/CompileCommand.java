package io.basalt.backend.neuron.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code basalt neuron compile MODEL --out DIR}: writes a package (NEURON.md §3) for the stand-in, Inf2 or Trn1. */
@Command(name = "compile", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compile MODEL into a package (manifest.json + NEFFs) for 'basalt serve --backend neuron --compiled DIR'.",
                "--target standin is written here in Java (no Neuron SDK); inf2 and trn1 run kernels/neuron/compile.py with python3 "
                        + "on a host with the Neuron SDK (MODEL: a Hugging Face Llama directory)."})
final class CompileCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "The checkpoint (file or directory).")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The package directory to write.")
    Path out;

    @Option(names = "--target", defaultValue = "standin", paramLabel = "inf2|trn1|standin", description = "What the NEFFs run on (default: ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree: ranks (NeuronCores) per model (default: ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--prefill-buckets", split = ",", paramLabel = "L,...", description = "Prefill lengths (default: 128).")
    List<Integer> prefillBuckets = new ArrayList<>(List.of(128));

    @Option(names = "--decode-batches", split = ",", paramLabel = "B,...", description = "Decode batch sizes (default: --max-batch).")
    List<Integer> decodeBatches = new ArrayList<>();

    @Option(names = "--kv-lengths", split = ",", paramLabel = "K,...", description = "Decode KV lengths (default: --max-length).")
    List<Integer> kvLengths = new ArrayList<>();

    @Option(names = "--max-batch", defaultValue = "4", description = "KV slots: sequences at once (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-length", paramLabel = "N", description = "Longest sequence (default: the largest bucket).")
    Integer maxLength;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|bf16", description = "Weights and KV (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Override
    public Integer call() {
        CompileOptions o = options();
        if (!Files.exists(model)) throw new IllegalArgumentException(model + ": no such file or directory");
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + ": not a directory");
        return switch (o.target()) {
            case "standin" -> {
                StandinTarget.compile(model, out, o);
                spec.commandLine().getOut().println("wrote " + out.resolve("manifest.json") + " (target standin, tp " + o.tp() + ")");
                yield 0;
            }
            default -> CompileScript.run(model, out, o, spec.commandLine().getOut(), spec.commandLine().getErr());
        };
    }

    /** Every option checked before anything is compiled or started. */
    CompileOptions options() {
        String t = target.strip().toLowerCase(Locale.ROOT);
        if (!List.of("standin", "inf2", "trn1").contains(t)) throw new IllegalArgumentException("--target must be inf2, trn1 or standin, got '" + target + "'");
        String d = dtype.strip().toLowerCase(Locale.ROOT);
        if (!d.equals("f32") && !d.equals("bf16")) throw new IllegalArgumentException("--dtype must be f32 or bf16, got '" + dtype + "'");
        if (tp < 1) throw new IllegalArgumentException("--tp must be at least 1, got " + tp);
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
        positive("--prefill-buckets", prefillBuckets);
        positive("--decode-batches", decodeBatches);
        positive("--kv-lengths", kvLengths);
        int longest = prefillBuckets.stream().mapToInt(Integer::intValue).max().orElse(128);
        for (int k : kvLengths) longest = Math.max(longest, k);
        int max = maxLength == null ? longest : maxLength;
        if (max < longest) throw new IllegalArgumentException("--max-length " + max + " is shorter than the largest bucket (" + longest + ")");
        for (int b : decodeBatches) {
            if (b > maxBatch) throw new IllegalArgumentException("--decode-batches " + b + " exceeds --max-batch " + maxBatch);
        }
        return new CompileOptions(t, tp, sorted(prefillBuckets), decodeBatches.isEmpty() ? List.of(maxBatch) : sorted(decodeBatches),
                kvLengths.isEmpty() ? List.of(max) : sorted(kvLengths), maxBatch, max, d);
    }

    private static void positive(String option, List<Integer> values) {
        for (int v : values) if (v < 1) throw new IllegalArgumentException(option + " must list positive numbers, got " + values);
    }

    private static List<Integer> sorted(List<Integer> v) { return v.stream().distinct().sorted().toList(); }
}
