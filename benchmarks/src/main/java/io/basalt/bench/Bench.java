package io.basalt.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.basalt.backend.cpu.model.ModelLoader;
import io.basalt.model.layout.LoadOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code basalt bench}: the end-to-end CPU benchmark. Measures the machine (memory bandwidth, FMA
 * peak) in this JVM, then each model in a child JVM of its own (same java, classpath and flags) so
 * that its peak RSS and its start-up are its own, and prints every figure next to the machine limit
 * it is bound by. docs/BENCHMARKS.md explains each figure.
 */
public final class Bench {
    private Bench() {}

    static final String USAGE = """
            usage: basalt bench [--models NAME|PATH,...] [--quick] [--steps N] [--concurrency 4,16,64] [--prompt 512] [--json FILE]
                                [--compare-llamacpp DIR]
              models: stories260k, gpt2 (random GPT-2-124M shape, fp32), llama1b-bf16 (random 1.1B Llama, bf16),
                      llama1b-q8_0 (the same loaded with --quantize q8_0), or a model path; default: the four names
              --quick        smoke run: 8 steps, concurrency 4,16, 128-token prefill, shorter windows
              --steps N      single-stream decode steps per round, and the most steps of an aggregate window (32)
              --concurrency  aggregate decode concurrencies (4,16,64)
              --prompt N     prefill prompt length (512)
              --json FILE    also write the results as JSON
              --compare-llamacpp DIR
                             run llama.cpp's llama-batched-bench and llama-bench (in DIR) on each GGUF model right
                             before its Basalt figures, with the same threads, and print both side by side with ratios""";

    static final List<String> DEFAULT_MODELS = List.of("stories260k", "gpt2", "llama1b-bf16", "llama1b-q8_0");

    /** Parsed command line. */
    record Options(List<String> models, boolean quick, int steps, List<Integer> concurrency, int prompt, Path json, Path llamaCpp) {
        static Options parse(String[] args) {
            List<String> models = DEFAULT_MODELS;
            boolean quick = false;
            Integer steps = null, prompt = null;
            List<Integer> concurrency = null;
            Path json = null, llamaCpp = null;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--models" -> models = Arrays.stream(value(args, ++i).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
                    case "--quick" -> quick = true;
                    case "--steps" -> steps = positive(args, ++i);
                    case "--concurrency" -> concurrency = Arrays.stream(value(args, ++i).split(",")).map(String::trim)
                            .map(s -> positive(s, "--concurrency")).toList();
                    case "--prompt" -> prompt = positive(args, ++i);
                    case "--json" -> json = Path.of(value(args, ++i));
                    case "--compare-llamacpp" -> llamaCpp = Path.of(value(args, ++i));
                    default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
                }
            }
            if (models.isEmpty()) throw new IllegalArgumentException("--models names no model");
            return new Options(models, quick, steps != null ? steps : quick ? 8 : 32,
                    concurrency != null ? concurrency : quick ? List.of(4, 16) : List.of(4, 16, 64),
                    prompt != null ? prompt : quick ? 128 : 512, json, llamaCpp);
        }

        double minSeconds() { return quick ? 0.5 : 2.0; }

        double windowSeconds() { return quick ? 1.0 : 3.0; }

        /** Time budget of one prefill measurement (see BenchChild.Spec). */
        double prefillSeconds() { return quick ? 20 : 60; }

        private static String value(String[] args, int i) {
            if (i >= args.length) throw new IllegalArgumentException("missing value after " + args[i - 1]);
            return args[i];
        }

        private static int positive(String[] args, int i) { return positive(value(args, i), args[i - 1]); }

        private static int positive(String s, String option) {
            try {
                int v = Integer.parseInt(s);
                if (v > 0) return v;
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(option + " needs a positive integer, got '" + s + "'");
        }
    }

    /** A model to measure: where it is and how to load it; {@code large} ones skip 64-way aggregate in --quick. */
    record Target(String name, Path path, String dtype, String quantize, boolean large) {
        static Target resolve(String name) throws IOException {
            return switch (name) {
                case "stories260k" -> new Target(name, SharedDir.model("stories260K/stories260K.bin"), "auto", "none", false);
                case "gpt2" -> new Target(name, SyntheticGpt2.cached(SyntheticGpt2.Size.GPT2), "auto", "none", false);
                case "llama1b-bf16" -> new Target(name, SyntheticLlama.cached(SyntheticLlama.Shape.LLAMA_1B), "auto", "none", true);
                case "llama1b-q8_0" -> new Target(name, SyntheticLlama.cached(SyntheticLlama.Shape.LLAMA_1B), "auto", "q8_0", true);
                default -> {
                    Path p = Path.of(name);
                    if (!Files.exists(p)) {
                        throw new IllegalArgumentException("unknown model '" + name + "' (known: " + String.join(", ", DEFAULT_MODELS)
                                + ", or a model path)");
                    }
                    yield new Target(p.getFileName().toString(), p, "auto", "none", size(p) > (1L << 30));
                }
            };
        }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            if (Arrays.asList(args).contains("-h") || Arrays.asList(args).contains("--help")) {
                System.out.println(USAGE);
                return;
            }
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("basalt bench: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        long started = System.nanoTime();
        BenchReport.Machine machine = machine();
        System.out.printf(Locale.ROOT, "basalt bench%s: %d cores (%s), %.1f GiB RAM; %s %s; %s %s%n", options.quick() ? " --quick" : "",
                machine.cores(), machine.cpu(), machine.memoryBytes() / (double) (1L << 30), machine.javaVm(), machine.javaVersion(),
                machine.os(), machine.arch());

        System.out.println("probing the machine (all cores, best of several runs) ...");
        MachineProbes.Config probeConfig = options.quick() ? MachineProbes.Config.quick() : MachineProbes.Config.full();
        MachineProbes.Result before = MachineProbes.run(probeConfig);
        System.out.println("  " + MachineProbes.describe(before));

        LlamaCppPeer peer = null;
        if (options.llamaCpp() != null) {
            try {
                peer = LlamaCppPeer.in(options.llamaCpp());
            } catch (IllegalArgumentException e) {
                System.err.println("basalt bench: " + e.getMessage());
                System.exit(2);
                return;
            }
        }
        int threads = Integer.getInteger("basalt.threads", Runtime.getRuntime().availableProcessors());
        List<String> sideBySide = new ArrayList<>();

        List<BenchReport.ModelResult> results = new ArrayList<>();
        for (String name : options.models()) {
            Target target;
            try {
                target = Target.resolve(name);
            } catch (RuntimeException | IOException e) {
                System.out.println(name + ": " + e.getMessage());
                results.add(failed(name, e.getMessage()));
                continue;
            }
            List<Integer> concurrency = options.concurrency().stream()
                    .filter(c -> !(options.quick() && target.large() && c >= 64)).toList();
            BenchChild.Spec spec = new BenchChild.Spec(target.name(), target.path().toString(), target.dtype(), target.quantize(),
                    options.steps(), concurrency, options.prompt(), options.minSeconds(), options.windowSeconds(),
                    options.prefillSeconds());
            pageIn(target);
            LlamaCppPeer.Figures peerFigures = null;
            if (peer != null) {
                System.out.println("measuring " + target.name() + " with llama.cpp (" + threads + " threads) ...");
                peerFigures = peer.measure(target.path(), concurrency, options.prompt(), threads);
            }
            System.out.println("measuring " + target.name() + " (" + target.path() + ") in a fresh JVM ...");
            BenchReport.ModelResult r = runChild(spec);
            results.add(r);
            Report.printModel(System.out, r, before);
            if (peerFigures != null) {
                List<String> lines = LlamaCppPeer.compare(target.name(), peerFigures, r);
                lines.forEach(l -> System.out.println("  " + l.strip()));
                sideBySide.addAll(lines);
            }
        }

        // Other work on a shared machine depresses a probe as much as a model; probing again at the end
        // and keeping each probe's better run makes the limits less likely to be understated.
        System.out.println("probing the machine again ...");
        MachineProbes.Result after = MachineProbes.run(probeConfig);
        System.out.println("  " + MachineProbes.describe(after));
        MachineProbes.Result probes = before.best(after);

        System.out.println();
        Report.printTable(System.out, results, probes);
        if (!sideBySide.isEmpty()) {
            System.out.println();
            System.out.println("side by side with llama.cpp (each model's peer figures measured just before its Basalt figures):");
            System.out.println(LlamaCppPeer.header());
            sideBySide.forEach(System.out::println);
        }
        System.out.printf(Locale.ROOT, "%ntotal %.0f s%n", (System.nanoTime() - started) / 1e9);
        BenchReport report = new BenchReport(machine, probes, results,
                results.stream().map(r -> BenchReport.Fractions.of(r, probes)).toList());
        if (options.json() != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(options.json().toFile(), report);
            System.out.println("wrote " + options.json());
        }
        System.exit(results.stream().anyMatch(r -> r.error() != null) ? 1 : 0);
    }

    /**
     * Brings the files the child will map (checkpoint, packed-weight cache) into the page cache, so
     * that its first token measures the runtime and not the disk (see {@link PageCache}).
     */
    private static void pageIn(Target target) {
        try {
            LoadOptions load = new LoadOptions(LoadOptions.parseStorage(target.dtype()), LoadOptions.parseQuantization(target.quantize()));
            long t0 = System.nanoTime();
            long bytes = PageCache.warm(ModelLoader.mappedFiles(target.path(), load));
            System.out.printf(Locale.ROOT, "page cache: read %.2f GB of %s's files in %.1f s before its JVM starts%n",
                    bytes / 1e9, target.name(), (System.nanoTime() - t0) / 1e9);
        } catch (IOException | RuntimeException e) {
            System.out.println("page cache: could not read " + target.name() + "'s files (" + e.getMessage() + "); measuring anyway");
        }
    }

    /** Runs {@link BenchChild} for one model in a new JVM and reads back its result line. */
    static BenchReport.ModelResult runChild(BenchChild.Spec spec) throws IOException, InterruptedException {
        ObjectMapper json = new ObjectMapper();
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib") && !a.startsWith("-agentpath") && !a.startsWith("-javaagent")).toList();
        command.addAll(jvmArgs);
        for (String flag : List.of("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED")) {
            if (!jvmArgs.contains(flag)) command.add(flag);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchChild.class.getName(), json.writeValueAsString(spec)));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BenchReport.ModelResult result = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith(BenchChild.RESULT_PREFIX)) {
                    result = json.readValue(line.substring(BenchChild.RESULT_PREFIX.length()), BenchReport.ModelResult.class);
                } else {
                    System.out.println(line);
                }
            }
        }
        int status = process.waitFor();
        if (result == null) return failed(spec.name(), "the child JVM exited with status " + status + " and no result");
        return result;
    }

    static BenchReport.ModelResult failed(String name, String error) {
        return new BenchReport.ModelResult(name, null, null, null, null, 0, null, null, null, null, null, null, null, List.of(), null, error);
    }

    static BenchReport.Machine machine() {
        String cpu = "?";
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            cpu = lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        long memory = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getTotalMemorySize() : -1;
        return new BenchReport.Machine(Runtime.getRuntime().availableProcessors(), cpu, memory, Runtime.version().toString(),
                System.getProperty("java.vm.name"), System.getProperty("os.name") + " " + System.getProperty("os.version"),
                System.getProperty("os.arch"));
    }

    private static long size(Path p) throws IOException {
        if (!Files.isDirectory(p)) return Files.size(p);
        try (Stream<Path> files = Files.walk(p)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
