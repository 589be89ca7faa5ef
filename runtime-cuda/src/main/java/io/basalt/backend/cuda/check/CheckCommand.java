package io.basalt.backend.cuda.check;

import io.basalt.backend.Backends;
import io.basalt.backend.cuda.CudaProbe;
import io.basalt.backend.cuda.check.Results.Status;
import io.basalt.model.layout.LoadOptions;
import io.basalt.parity.LogitsMode;
import io.basalt.parity.ParityComparator;
import io.basalt.parity.ParityDump;
import io.basalt.parity.ParityRecorder;
import io.basalt.parity.ParityReport;
import io.basalt.parity.Precision;
import io.basalt.parity.Thresholds;
import io.basalt.spi.Backend;
import io.basalt.spi.ModelRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code basalt cuda check}: the GPU acceptance of shared CUDA.md §8 in one command. Steps: (0) environment, (1) read
 * bandwidth and GEMM ceilings, (2) launch cost eager vs graph, (3) every kernel vs a CPU reference, (4) cuda vs cpu parity
 * on the tiny models in testdata, (5) decode and prefill speed on random-weight models of real shapes. Results go to
 * {@code DIR/results.json} after every row, {@code results.md} and a table at the end. On the stand-in libcuda (no GPU)
 * the steps that need silicon are reported as skipped with the reason. Exit 0 only when every correctness gate holds
 * (speed is reported against the targets, never fails the check), 1 otherwise, 2 on bad usage.
 */
@Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Check this host's NVIDIA GPU (or the stand-in libcuda: BASALT_CUDA_LIBRARY) and the cuda backend on it: "
                + "ceilings, launch costs, every kernel vs a CPU reference, parity with the cpu backend, decode/prefill speed.",
                "Exit 0 when every correctness gate passes, 1 when one fails, 2 on bad usage."})
final class CheckCommand implements Callable<Integer> {
    /** Issue targets (docs/CUDA.md §7; shared CUDA.md §9): fractions of the measured ceilings. */
    static final double DENSE_DECODE_TARGET = 0.80;
    static final double MOE_DECODE_TARGET = 0.60;
    static final double PREFILL_TARGET = 0.50;
    static final double HOST_TARGET = 0.10;
    /** shared CUDA.md §8 step 1: the first-milestone bf16 GEMM rate on the test H100 (it measured 798 TFLOP/s). */
    static final double GEMM_TARGET = 650e12;

    /** Token-id prompts: no tokenizer needed, every id below 256 fits every tiny model's vocabulary. */
    static final List<int[]> PROMPTS = List.of(new int[] {1, 43, 201, 17, 99, 5, 120, 64}, new int[] {1, 7, 7, 7, 180, 32, 18, 111, 222, 4});

    /** The tiny models of testdata/models the parity step runs when present. */
    static final List<String> PARITY_MODELS = List.of("stories260K/stories260K.bin", "gpt2-tiny-random/hf",
            "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf", "gpt-oss-tiny-random/hf");

    @Spec
    CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", description = "Where results.json and results.md go (created; default: ./cuda-check).")
    Path outDir = Path.of("cuda-check");

    @Option(names = "--quick", description = "Small sizes everywhere (seconds, not minutes); what the stand-in always uses.")
    boolean quick;

    @Option(names = "--budget-seconds", defaultValue = "420", paramLabel = "S",
            description = "Stop starting new steps after this many seconds (default: ${DEFAULT-VALUE}); skipped ones say so.")
    int budgetSeconds;

    @Option(names = "--testdata", paramLabel = "DIR", description = "The tiny models for parity (default: -Dbasalt.testdata.default, else ./testdata).")
    Path testdata;

    @Option(names = "--parity-tokens", defaultValue = "16", paramLabel = "N", description = "Greedy tokens per parity prompt (default: ${DEFAULT-VALUE}).")
    int parityTokens;

    private long deadline;
    private PrintWriter out;
    private Results results;
    /** What the measured GEMM rate is, for the prefill row: the cuBLASLt ceiling or basalt_matmul's fallback rate. */
    private String gemmSource = "no GEMM rate";

    @Override
    public Integer call() throws IOException {
        if (budgetSeconds < 1) throw new IllegalArgumentException("--budget-seconds must be positive, got " + budgetSeconds);
        if (parityTokens < 1) throw new IllegalArgumentException("--parity-tokens must be positive, got " + parityTokens);
        deadline = System.nanoTime() + budgetSeconds * 1_000_000_000L;
        out = spec.commandLine().getOut();
        Files.createDirectories(outDir);
        results = new Results(outDir);

        CudaProbe.Environment env = null;
        double bandwidth = Double.NaN, gemm = Double.NaN;
        try (CudaProbe probe = openProbe()) {
            if (probe != null) {
                env = environment(probe);
                boolean small = quick || env.standin();
                bandwidth = bandwidth(probe, env, small);
                gemm = gemm(probe, env, small);
                launchCosts(probe, env, small);
                kernels(probe, small);
            }
        }
        boolean silicon = env != null && !env.standin();
        parity(env != null);
        decode(env, silicon && !quick, bandwidth, gemm);

        results.writeMarkdown();
        out.println();
        out.print(results.table());
        out.println("results: " + outDir.resolve("results.json") + ", " + outDir.resolve("results.md"));
        out.flush();
        return results.gatesPassed() ? 0 : 1;
    }

    private long secondsLeft() { return (deadline - System.nanoTime()) / 1_000_000_000L; }

    private boolean budget(String step, String name, long needSeconds) {
        if (secondsLeft() >= needSeconds) return true;
        results.skip(step, name, "budget: " + secondsLeft() + " s left of --budget-seconds " + budgetSeconds + ", needs about " + needSeconds);
        return false;
    }

    private void log(String line) {
        out.println(line);
        out.flush();
    }

    private CudaProbe openProbe() {
        try {
            return CudaProbe.open();
        } catch (RuntimeException | LinkageError e) {
            results.add("0", "libcuda opens, cuInit, device 0", Status.FAIL, true, "", message(e), null);
            log("environment: libcuda did not open: " + message(e));
            return null;
        }
    }

    // ---- 0. environment ----------------------------------------------------------------------------------------------------

    private CudaProbe.Environment environment(CudaProbe probe) {
        CudaProbe.Environment e = probe.environment();
        results.environment("libcuda", e.library());
        results.environment("driver_version", e.driverVersion());
        results.environment("device", e.deviceName());
        results.environment("compute_capability", e.ccMajor() + "." + e.ccMinor());
        results.environment("multiprocessors", e.multiprocessors());
        results.environment("memory_bytes", e.totalMemory());
        results.environment("standin", e.standin());
        String cublas = cublasLt();
        results.environment("cublaslt", cublas == null ? "absent" : cublas);
        results.environment("fatbin", e.fatbin());
        results.add("0", "libcuda opens, cuInit, device 0", Status.PASS, true, e.deviceName(),
                String.format(Locale.ROOT, "%s, driver %d, cc %d.%d, %d SMs, %.1f GiB", e.library(), e.driverVersion(), e.ccMajor(), e.ccMinor(),
                        e.multiprocessors(), e.totalMemory() / (double) (1L << 30)), null);
        if (e.standin()) {
            results.add("0", "driver version", Status.INFO, false, String.valueOf(e.driverVersion()), "stand-in libcuda", null);
        } else {
            results.add("0", "driver version ≥ 13000", e.driverVersion() >= 13000 ? Status.PASS : Status.FAIL, true,
                    String.valueOf(e.driverVersion()), "CUDA 13 driver API (cuGetProcAddress_v2 at 13000)", null);
        }
        results.add("0", "kernels in this build (fatbin)", e.fatbin() ? Status.PASS : Status.FAIL, true, e.fatbin() ? "present" : "absent",
                e.fatbin() ? "" : "this build has no GPU code (nvcc was not found when it was built)", null);
        results.add("0", "cuBLASLt", Status.INFO, false, cublas == null ? "absent" : cublas,
                cublas == null ? "every GEMM runs on basalt_matmul (slower)" : "", null);
        log(String.format(Locale.ROOT, "environment: %s (cc %d.%d, %d SMs, %.1f GiB), driver %d, libcuda %s, cuBLASLt %s%s", e.deviceName(),
                e.ccMajor(), e.ccMinor(), e.multiprocessors(), e.totalMemory() / (double) (1L << 30), e.driverVersion(), e.library(),
                cublas == null ? "absent" : cublas, e.standin() ? " — the stand-in: no speed is measured" : ""));
        return e;
    }

    /** The cuBLASLt the backend would load (docs/CUDA.md §3 lookup order), or null. */
    static String cublasLt() {
        List<String> names = new ArrayList<>();
        String prop = System.getProperty("basalt.cublaslt.library", System.getenv("BASALT_CUBLASLT_LIBRARY"));
        if (prop != null) names.add(prop);
        names.addAll(List.of("libcublasLt.so.13", "libcublasLt.so.12"));
        for (String n : names) {
            try (Arena arena = Arena.ofConfined()) {
                if (n.contains("/")) SymbolLookup.libraryLookup(Path.of(n), arena);
                else SymbolLookup.libraryLookup(n, arena);
                return n;
            } catch (IllegalArgumentException e) {
                // not found: try the next name
            }
        }
        return null;
    }

    // ---- 1. ceilings -------------------------------------------------------------------------------------------------------

    private double bandwidth(CudaProbe probe, CudaProbe.Environment env, boolean small) {
        if (!env.fatbin()) {
            results.skip("1", "read bandwidth (basalt_read_probe)", "no GPU code in this build");
            return Double.NaN;
        }
        if (!budget("1", "read bandwidth (basalt_read_probe)", 10)) return Double.NaN;
        long bytes = small ? 16L << 20 : 4L << 30;
        try {
            double bw = probe.readBandwidth(bytes, small ? 3 : 20);
            String v = String.format(Locale.ROOT, "%.0f GB/s over %d MiB", bw / 1e9, bytes >> 20);
            if (env.standin()) {
                results.add("1", "read bandwidth (basalt_read_probe)", Status.INFO, false, v, "stand-in: host memory through a C loop, not a ceiling",
                        Map.of("bytes_per_second", bw));
            } else {
                results.add("1", "read bandwidth (basalt_read_probe)", Status.INFO, false, v, "the ceiling decode is measured against",
                        Map.of("bytes_per_second", bw, "bytes", bytes));
            }
            log("read bandwidth: " + v);
            return bw;
        } catch (RuntimeException e) {
            results.add("1", "read bandwidth (basalt_read_probe)", Status.FAIL, true, "", message(e), null);
            return Double.NaN;
        }
    }

    /**
     * The GEMM ceiling prefill is measured against: cuBLASLt's bf16 rate when it loads (the backend's prefill path), else
     * basalt_matmul's (what every GEMM then runs on). basalt_matmul's rate is reported either way.
     */
    private double gemm(CudaProbe probe, CudaProbe.Environment env, boolean small) {
        double ceiling = cublasGemm(probe, env, small);
        double ours = matmulGemm(probe, env, small);
        if (!Double.isNaN(ceiling)) {
            gemmSource = "the cuBLASLt bf16 GEMM ceiling";
            return ceiling;
        }
        gemmSource = "basalt_matmul's rate (no cuBLASLt)";
        return ours;
    }

    private double cublasGemm(CudaProbe probe, CudaProbe.Environment env, boolean small) {
        String name = "bf16 GEMM ceiling (cuBLASLt)";
        if (!budget("1", name, 20)) return Double.NaN;
        int size = small ? 256 : 8192;
        try {
            Optional<CudaProbe.GemmRate> measured = probe.cublasGemmRate(size, size, size, small ? 5 : 20);
            if (measured.isEmpty()) {
                results.add("1", name, Status.INFO, false, "absent", "prefill is measured against basalt_matmul's rate instead", null);
                log("GEMM (cuBLASLt): absent, falling back to basalt_matmul's rate");
                return Double.NaN;
            }
            CudaProbe.GemmRate g = measured.get();
            String v = flops(g.flopsPerSecond()) + " (" + size + "³)";
            Map<String, Object> data = Map.of("flops_per_second", g.flopsPerSecond(), "m", g.m(), "n", g.n(), "k", g.k(), "library", g.library());
            if (env.standin()) {
                results.add("1", name, Status.INFO, false, v, "stand-in: a C loop, not a ceiling", data);
            } else {
                results.add("1", name, g.flopsPerSecond() >= GEMM_TARGET ? Status.PASS : Status.FAIL, false, v,
                        "target ≥ " + (int) (GEMM_TARGET / 1e12) + " TFLOP/s (H100); the ceiling prefill is measured against", data);
            }
            log("GEMM (cuBLASLt " + g.library() + "): " + v);
            return g.flopsPerSecond();
        } catch (RuntimeException | LinkageError e) {
            results.add("1", name, Status.FAIL, true, "", message(e), null);
            return Double.NaN;
        }
    }

    /** TFLOP/s on silicon; the stand-in's C loops need GFLOP/s to show anything but 0.0. */
    static String flops(double perSecond) {
        return perSecond >= 1e12 ? String.format(Locale.ROOT, "%.1f TFLOP/s", perSecond / 1e12) : String.format(Locale.ROOT, "%.2f GFLOP/s", perSecond / 1e9);
    }

    private double matmulGemm(CudaProbe probe, CudaProbe.Environment env, boolean small) {
        if (!env.fatbin() || !budget("1", "bf16 GEMM (basalt_matmul)", 15)) return Double.NaN;
        int m = small ? 64 : 8192, n = small ? 16 : 2048, k = small ? 64 : 8192;
        try {
            double rate = probe.matmulRate(m, n, k, small ? 3 : 10);
            String v = flops(rate) + String.format(Locale.ROOT, " (%dx%dx%d)", m, n, k);
            results.add("1", "bf16 GEMM (basalt_matmul)", Status.INFO, false, v, env.standin() ? "stand-in: a C loop" : "our kernel, the prefill ceiling without cuBLASLt",
                    Map.of("flops_per_second", rate, "m", m, "n", n, "k", k));
            log("GEMM (basalt_matmul): " + v);
            return rate;
        } catch (RuntimeException e) {
            results.add("1", "bf16 GEMM (basalt_matmul)", Status.FAIL, true, "", message(e), null);
            return Double.NaN;
        }
    }

    // ---- 2. launch costs ---------------------------------------------------------------------------------------------------

    private void launchCosts(CudaProbe probe, CudaProbe.Environment env, boolean small) {
        if (!env.fatbin()) {
            results.skip("2", "launch cost eager vs graph", "no GPU code in this build");
            return;
        }
        if (!budget("2", "launch cost eager vs graph", 10)) return;
        try {
            CudaProbe.LaunchCost c = probe.launchCost(small ? 200 : 10_000, small ? 100 : 1_000);
            String v = String.format(Locale.ROOT, "eager %.2f µs/launch, graph %.2f µs/node", c.eagerMicros(), c.graphNodeMicros());
            results.add("2", "launch cost eager vs graph", Status.INFO, false, v, env.standin() ? "stand-in: host calls, not the GPU's" : "",
                    Map.of("eager_us_per_launch", c.eagerMicros(), "graph_us_per_node", c.graphNodeMicros(), "launches", c.launches(), "nodes", c.nodes()));
            log("launch cost: " + v);
        } catch (RuntimeException e) {
            // Capture and replay are part of the driver binding: a failure here is a correctness failure.
            results.add("2", "launch cost eager vs graph", Status.FAIL, true, "", message(e), null);
        }
    }

    // ---- 3. kernels vs the CPU ---------------------------------------------------------------------------------------------

    private void kernels(CudaProbe probe, boolean small) {
        if (!budget("3", "kernels vs CPU reference", 20)) return;
        long seed = System.nanoTime();
        List<KernelChecks.Check> checks = new KernelChecks(probe, seed).runAll(small);
        for (KernelChecks.Check c : checks) {
            String v = value(c);
            results.add("3", "kernel " + c.name(), c.passed() ? Status.PASS : Status.FAIL, true, v, c.note(), Map.of("seed", seed));
        }
        long failed = checks.stream().filter(c -> !c.passed()).count();
        log("kernels: " + (checks.size() - failed) + "/" + checks.size() + " match the CPU reference (seed " + seed + ")");
    }

    /** Exact checks (tolerance 0: ids, copies, checksums) count wrong elements; the rest show their rel. L2 error. */
    static String value(KernelChecks.Check c) {
        if (Double.isNaN(c.error())) return "NaN";
        if (c.tolerance() == 0) return c.error() == 0 ? "exact" : String.format(Locale.ROOT, "%.0f wrong", c.error());
        return String.format(Locale.ROOT, "rel L2 %.2e ≤ %.0e", c.error(), c.tolerance());
    }

    // ---- 4. parity -----------------------------------------------------------------------------------------------------------

    private Path testdata() {
        if (testdata != null) return testdata;
        String p = System.getProperty("basalt.testdata.default");
        return p != null && !p.isBlank() ? Path.of(p) : Path.of("testdata");
    }

    private void parity(boolean cudaOpened) throws IOException {
        String why = !Backends.names().contains("cuda") ? "the cuda backend is not installed in this build"
                : !Backends.names().contains("cpu") ? "the cpu backend is not installed in this build (it is the reference)"
                : !cudaOpened ? "libcuda did not open" : null;
        Path root = testdata().resolve("models");
        for (String m : PARITY_MODELS) {
            String name = "parity cuda = cpu: " + m.substring(0, m.indexOf('/'));
            Path model = root.resolve(m);
            if (why != null) {
                results.skip("4", name, why);
                continue;
            }
            if (!Files.exists(model)) {
                results.skip("4", name, "not found: " + model + " (--testdata)");
                continue;
            }
            if (!budget("4", name, 15)) continue;
            parityOne(name, model);
        }
    }

    private void parityOne(String name, Path model) throws IOException {
        Path work = Files.createTempDirectory("basalt-cuda-parity");
        try {
            Path prompts = work.resolve("prompts.jsonl");
            StringBuilder jsonl = new StringBuilder();
            for (int[] p : PROMPTS) jsonl.append("{\"tokens\": ").append(java.util.Arrays.toString(p)).append("}\n");
            Files.writeString(prompts, jsonl);
            Path cpu = work.resolve("cpu.safetensors");
            Path cuda = work.resolve("cuda.safetensors");
            ParityRecorder.run(new ParityRecorder.Request(model, "cpu", LoadOptions.DEFAULT, null, prompts, cpu, parityTokens,
                    LogitsMode.parse("full"), false, 64L << 20), line -> { });
            ParityRecorder.run(new ParityRecorder.Request(model, "cuda", LoadOptions.DEFAULT, null, prompts, cuda, parityTokens,
                    LogitsMode.parse("full"), false, 64L << 20), line -> { });
            try (ParityDump a = ParityDump.open(cpu); ParityDump b = ParityDump.open(cuda)) {
                Precision basis = Precision.lessPrecise(a.metadata().precisionClass(), b.metadata().precisionClass());
                ParityReport report = new ParityReport(ParityComparator.compare(a, b), Thresholds.defaults(basis), "cpu", "cuda",
                        basis.label() + " defaults");
                String first = report.passed() ? "" : report.violations().getFirst().toString();
                results.add("4", name, report.passed() ? Status.PASS : Status.FAIL, true,
                        PROMPTS.size() + " prompts × " + parityTokens + " greedy tokens", first, Map.of("report", report.text()));
                log(name + ": " + (report.passed() ? "PASS" : "FAIL " + first));
            }
        } catch (RuntimeException e) {
            results.add("4", name, Status.FAIL, true, "", message(e), null);
            log(name + ": FAIL " + message(e));
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    // ---- 5. decode and prefill -------------------------------------------------------------------------------------------------

    private void decode(CudaProbe.Environment env, boolean realShapes, double bandwidth, double gemm) throws IOException {
        results.skip("5", "gpt-oss-20b MXFP4 batch-1 decode", "no synthetic gpt-oss-20b writer yet (MXFP4 experts at real shape)");
        if (env == null || !Backends.names().contains("cuda")) {
            results.skip("5", "decode/prefill speed", env == null ? "libcuda did not open" : "the cuda backend is not installed in this build");
            return;
        }
        if (env.standin()) {
            // The host code still runs: a tiny shape through the same path, reported without targets.
            results.skip("5", "batch-1 decode at real shapes (1B, 8B)", "stand-in: no silicon, speed means nothing; a tiny shape runs the same host code instead");
            decodeModel(SyntheticLlama.Shape.TINY, Double.NaN, Double.NaN, true);
        } else if (!realShapes) {
            results.skip("5", "batch-1 decode at real shapes (1B, 8B)", "--quick");
            decodeModel(SyntheticLlama.Shape.TINY, bandwidth, gemm, true);
        } else {
            decodeModel(SyntheticLlama.Shape.LLAMA_1B, bandwidth, gemm, false);
            decodeModel(SyntheticLlama.Shape.LLAMA_8B, bandwidth, gemm, false);
        }
        results.skip("5", "host time per decode step", "waits on the runner reporting device time per step (CudaModelRunner); target ≤ "
                + (int) (HOST_TARGET * 100) + " % of a step");
    }

    private void decodeModel(SyntheticLlama.Shape shape, double bandwidth, double gemm, boolean small) throws IOException {
        long writeSeconds = Math.max(5, shape.parameters() * 2 / 500_000_000L); // ~0.5 GB/s written and read back, pessimistic
        if (!budget("5", shape.name() + " decode", writeSeconds * 2 + 30)) return;
        Path dir = Files.createTempDirectory("basalt-cuda-" + shape.name());
        try {
            long t0 = System.nanoTime();
            SyntheticLlama.write(dir, shape, 1234);
            log(String.format(Locale.ROOT, "%s: wrote %.1f GB of random bf16 weights in %.1f s", shape.name(), shape.parameters() * 2 / 1e9,
                    (System.nanoTime() - t0) / 1e9));
            int prefill = small ? 64 : 2048;
            int context = small ? 16 : 128;
            int[] batches = small ? new int[] {1, 4} : new int[] {1, 16, 64};
            long kvPerToken = 2L * shape.layers() * shape.kvDim() * 4;
            long kvBytes = Math.max(kvPerToken * (64L * (context + 64) + prefill + 64), 64L << 20);
            try (Backend backend = Backends.open("cuda");
                 ModelRunner runner = backend.load(dir, DecodeBench.loadConfig(kvBytes, small ? 4 : 64, prefill))) {
                DecodeBench bench = new DecodeBench(runner);
                for (int batch : batches) {
                    if (!budget("5", shape.name() + " decode batch " + batch, 15)) continue;
                    DecodeBench.Decode d = bench.decode(batch, context, small ? 2 : 20, small ? 5 : 100);
                    reportDecode(shape, d, bandwidth, small);
                }
                if (budget("5", shape.name() + " prefill " + prefill, 15)) {
                    DecodeBench.Prefill p = bench.prefill(prefill);
                    double rate = shape.flopsPerToken() * p.tokensPerSecond();
                    String v = String.format(Locale.ROOT, "%d tokens in %.1f ms: %.0f tok/s, %.1f TFLOP/s", p.tokens(), p.millis(), p.tokensPerSecond(), rate / 1e12);
                    Map<String, Object> data = Map.of("tokens", p.tokens(), "millis", p.millis(), "flops_per_second", rate);
                    if (small || Double.isNaN(gemm)) {
                        results.add("5", shape.name() + " prefill", Status.INFO, false, v, small ? "small shape: no target" : "no GEMM ceiling measured", data);
                    } else {
                        double frac = rate / gemm;
                        results.add("5", shape.name() + " prefill vs GEMM rate", frac >= PREFILL_TARGET ? Status.PASS : Status.FAIL, false,
                                v + String.format(Locale.ROOT, " = %.0f %%", frac * 100), "target ≥ " + (int) (PREFILL_TARGET * 100) + " % of " + gemmSource, data);
                    }
                    log(shape.name() + " prefill: " + v);
                }
            }
        } catch (RuntimeException e) {
            // The speed steps gate nothing, but a model that does not load or step is a failed run of the backend.
            results.add("5", shape.name() + " decode", Status.FAIL, true, "", message(e), null);
            log(shape.name() + ": FAIL " + message(e));
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private void reportDecode(SyntheticLlama.Shape shape, DecodeBench.Decode d, double bandwidth, boolean small) {
        // Bytes a step reads: the weights once, plus every row's KV (fp32 K and V) up to its position.
        long kv = 2L * shape.layers() * shape.kvDim() * 4 * (d.context() + 1) * d.batch();
        double bytesPerSecond = (shape.bytesPerDecodeStep() + kv) / (d.medianStepMillis() / 1e3);
        String v = String.format(Locale.ROOT, "%.2f ms/step, %.0f tok/s, %.0f GB/s", d.medianStepMillis(), d.tokensPerSecond(), bytesPerSecond / 1e9);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("batch", d.batch());
        data.put("context", d.context());
        data.put("median_step_ms", d.medianStepMillis());
        data.put("tokens_per_second", d.tokensPerSecond());
        data.put("bytes_per_second", bytesPerSecond);
        String name = shape.name() + " decode batch " + d.batch();
        if (d.batch() == 1 && !small && !Double.isNaN(bandwidth)) {
            double frac = bytesPerSecond / bandwidth;
            data.put("fraction_of_read_bandwidth", frac);
            results.add("5", name + " vs read BW", frac >= DENSE_DECODE_TARGET ? Status.PASS : Status.FAIL, false,
                    v + String.format(Locale.ROOT, " = %.0f %%", frac * 100), "target ≥ " + (int) (DENSE_DECODE_TARGET * 100) + " % of the measured read bandwidth", data);
        } else {
            results.add("5", name, Status.INFO, false, v, small ? "small shape: host code exercised, no target" : "", data);
        }
        log(name + ": " + v);
    }

    private static String message(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.strip().lines().findFirst().orElse(m);
    }
}
