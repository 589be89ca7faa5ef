package io.basalt.bench;

import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateRequest;
import io.basalt.api.grpc.GenerateResponse;
import io.basalt.api.grpc.InferenceGrpc;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.StreamEvent;
import io.basalt.server.BasaltServer;
import io.basalt.server.ServeSettings;
import io.basalt.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What the transports add: C concurrent greedy streams of the same prompts, run three ways in one
 * process — straight into the engine (listener timestamps), over HTTP (OpenAI SSE), over gRPC
 * (Generate stream) — reporting TTFT and inter-token latency p50/p99 for each, side by side.
 * Progress goes to stderr, the table (and machine-readable RESULT lines) to stdout once all rounds
 * are done; the server's per-request log lines are off.
 *
 * <pre>./basalt bench-serving MODEL_PATH [--concurrency 16] [--max-tokens 128] [--rounds 2]</pre>
 */
@Command(name = "basalt bench-serving", mixinStandardHelpOptions = true, version = "basalt bench-serving 0.1.0", sortOptions = false,
        description = "What HTTP and gRPC add to the engine: C concurrent greedy streams run straight into the engine, over HTTP "
                + "(OpenAI SSE) and over gRPC, in one process; TTFT and inter-token latency p50/p99 of each, side by side.")
public final class ServingOverheadBench implements Callable<Integer> {
    /**
     * The server logs one line per request here. Held in a field: java.util.logging keeps loggers only
     * weakly, so a level set on one that nobody references is lost at the next collection, and the
     * server's own lookup then makes a fresh logger at INFO.
     */
    private static final Logger REQUEST_LOG = Logger.getLogger("basalt.requests");

    @Parameters(index = "0", paramLabel = "MODEL_PATH", description = "The model to serve (any format basalt serve loads).")
    Path model;

    @Option(names = "--concurrency", defaultValue = "16", paramLabel = "C", description = "Concurrent streams (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--max-tokens", defaultValue = "128", paramLabel = "N", description = "Tokens generated per stream (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--rounds", defaultValue = "2", paramLabel = "R", description = "Measured rounds, after one warm-up round (default: ${DEFAULT-VALUE}).")
    int rounds;

    private PrintStream out = System.out, err = System.err;

    /** Per-stream timings: time to the first token, then the gaps between tokens (nanoseconds). */
    record Stream(long ttft, long[] gaps) { }

    /** One measured path in one round. */
    record Row(String path, int round, double ttftP50, double ttftP99, double itlP50, double itlP99, double tokS) { }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs the command line in-process (tests): 0 on success or --help, 2 for bad input (one "basalt: ..." line). */
    static int execute(String[] args, PrintStream out, PrintStream err) {
        ServingOverheadBench bench = new ServingOverheadBench();
        bench.out = out;
        bench.err = err;
        CommandLine cl = new CommandLine(bench);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler((e, a) -> {
            err.println("basalt: " + e.getMessage());
            return 2;
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            err.println("basalt: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            if (Boolean.getBoolean("basalt.debug")) e.printStackTrace(err);
            return 2;
        });
        return cl.execute(args);
    }

    /** Turns off the server's per-request log lines for the life of this process. */
    static void quietRequestLog() { REQUEST_LOG.setLevel(Level.WARNING); }

    @Override
    public Integer call() {
        if (concurrency < 1) throw new IllegalArgumentException("--concurrency must be >= 1, got " + concurrency);
        if (maxTokens < 1) throw new IllegalArgumentException("--max-tokens must be >= 1, got " + maxTokens);
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
        if (!Files.exists(model)) throw new IllegalArgumentException(model + ": no such file or directory");
        quietRequestLog();
        List<Row> rows = measure();
        out.printf("%n%-8s %5s %3s %10s %10s %10s %10s %8s%n", "path", "round", "C", "ttft p50", "ttft p99", "itl p50", "itl p99", "tok/s");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-8s %5d %3d %8.1fms %8.1fms %8.2fms %8.2fms %8.0f%n", r.path(), r.round(), concurrency,
                    r.ttftP50(), r.ttftP99(), r.itlP50(), r.itlP99(), r.tokS());
        }
        for (Row r : rows) {
            out.printf(Locale.ROOT, "RESULT path=%s C=%d round=%d ttft_p50_ms=%.2f ttft_p99_ms=%.2f itl_p50_ms=%.3f "
                    + "itl_p99_ms=%.3f tok_s=%.1f%n", r.path(), concurrency, r.round(), r.ttftP50(), r.ttftP99(), r.itlP50(), r.itlP99(), r.tokS());
        }
        out.flush();
        return 0;
    }

    private List<Row> measure() {
        ServerConfig net = new ServerConfig("127.0.0.1", 0, 0, "", 8L << 20, Duration.ofSeconds(5));
        ServeSettings settings = ServeSettings.forTests(model)
                .withEngine(new EngineConfig(concurrency, 2048, 256L << 20, false)).withMaxQueue(concurrency).withServer(net);
        List<Row> rows = new ArrayList<>();
        try (BasaltServer server = BasaltServer.start(settings);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            int[][] prompts = new int[concurrency][];
            for (int c = 0; c < concurrency; c++) prompts[c] = server.model().encodePrompt("Once upon a time " + c);
            String name = server.model().id();
            for (int round = 0; round <= rounds; round++) { // round 0 warms up every path
                err.println("bench-serving: " + (round == 0 ? "warm-up round" : "round " + round + " of " + rounds) + " (engine, http, grpc)");
                for (String path : List.of("engine", "http", "grpc")) {
                    long t0 = System.nanoTime();
                    List<CompletableFuture<Stream>> futures = new ArrayList<>();
                    for (int c = 0; c < concurrency; c++) {
                        int[] prompt = prompts[c];
                        int tokens = maxTokens;
                        futures.add(CompletableFuture.supplyAsync(() -> switch (path) {
                            case "engine" -> viaEngine(server, prompt, tokens);
                            case "http" -> viaHttp(http, server.baseUrl(), name, prompt, tokens);
                            default -> viaGrpc(channel, name, prompt, tokens);
                        }, pool));
                    }
                    List<Stream> streams = futures.stream().map(CompletableFuture::join).toList();
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    if (round == 0) continue;
                    long[] ttft = streams.stream().mapToLong(Stream::ttft).sorted().toArray();
                    long[] itl = streams.stream().flatMapToLong(s -> Arrays.stream(s.gaps())).sorted().toArray();
                    long total = streams.stream().mapToLong(s -> s.gaps().length + 1L).sum();
                    rows.add(new Row(path, round, pct(ttft, 50), pct(ttft, 99), pct(itl, 50), pct(itl, 99), total / seconds));
                }
            }
            channel.shutdownNow();
        }
        return rows;
    }

    private static double pct(long[] sorted, int p) {
        if (sorted.length == 0) return Double.NaN;
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1e6;
    }

    private static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
    }

    /** Timestamps taken in the engine's listener: the floor the transports are measured against. */
    private static Stream viaEngine(BasaltServer server, int[] prompt, int maxTokens) {
        long start = System.nanoTime();
        ConcurrentLinkedQueue<Long> stamps = new ConcurrentLinkedQueue<>();
        server.service().submit(UUID.randomUUID().toString(), prompt, greedy(maxTokens), 0, e -> {
            if (e instanceof StreamEvent.Delta) stamps.add(System.nanoTime());
        }).result().join();
        return toStream(start, new ArrayList<>(stamps));
    }

    private static Stream viaHttp(HttpClient http, String baseUrl, String model, int[] prompt, int maxTokens) {
        String body = "{\"model\":\"" + model + "\",\"prompt\":" + Arrays.toString(prompt) + ",\"max_tokens\":" + maxTokens
                + ",\"temperature\":0,\"ignore_eos\":true,\"stream\":true}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        List<Long> stamps = new ArrayList<>();
        try {
            HttpResponse<java.io.InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) throw new IllegalStateException("HTTP " + response.statusCode());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("data: {") && line.contains("\"text\"") && !line.contains("\"choices\":[]")) {
                        stamps.add(System.nanoTime());
                    }
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return toStream(start, stamps);
    }

    private static Stream viaGrpc(ManagedChannel channel, String model, int[] prompt, int maxTokens) {
        GenerateRequest.Builder b = GenerateRequest.newBuilder().setModel(model).setTemperature(0).setMaxTokens(maxTokens)
                .setIgnoreEos(true);
        for (int t : prompt) b.getTokenIdsBuilder().addIds(t);
        long start = System.nanoTime();
        List<Long> stamps = new ArrayList<>();
        Iterator<GenerateResponse> it = InferenceGrpc.newBlockingStub(channel).generate(b.build());
        while (it.hasNext()) {
            GenerateResponse r = it.next();
            for (int i = 0; i < r.getTokenIdsCount(); i++) stamps.add(System.nanoTime());
        }
        return toStream(start, stamps);
    }

    private static Stream toStream(long start, List<Long> stamps) {
        if (stamps.isEmpty()) return new Stream(0, new long[0]);
        long[] gaps = new long[stamps.size() - 1];
        for (int i = 1; i < stamps.size(); i++) gaps[i - 1] = stamps.get(i) - stamps.get(i - 1);
        return new Stream(stamps.getFirst() - start, gaps);
    }
}
