package io.basalt.bench;

import io.basalt.api.SamplingParams;
import io.basalt.api.grpc.GenerateRequest;
import io.basalt.api.grpc.GenerateResponse;
import io.basalt.api.grpc.InferenceGrpc;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.StreamEvent;
import io.basalt.server.BasaltServer;
import io.basalt.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What the transports add: C concurrent greedy streams of the same prompts, run three ways in one
 * process — straight into the engine (listener timestamps), over HTTP (OpenAI SSE), over gRPC
 * (Generate stream) — reporting TTFT and inter-token latency p50/p99 for each, side by side.
 *
 * <pre>./basalt bench-serving MODEL_PATH [--concurrency 16] [--max-tokens 128] [--rounds 2]</pre>
 */
public final class ServingOverheadBench {
    private ServingOverheadBench() {}

    /** Per-stream timings: time to the first token, then the gaps between tokens (nanoseconds). */
    record Stream(long ttft, long[] gaps) { }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: ServingOverheadBench MODEL_PATH [--concurrency C] [--max-tokens N] [--rounds R]");
            System.exit(2);
        }
        java.util.logging.Logger.getLogger("basalt.requests").setLevel(java.util.logging.Level.WARNING); // no per-request lines
        Path model = Path.of(args[0]);
        int concurrency = 16, maxTokens = 128, rounds = 2;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--concurrency" -> concurrency = Integer.parseInt(args[i + 1]);
                case "--max-tokens" -> maxTokens = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        ServerConfig net = new ServerConfig("127.0.0.1", 0, 0, "", 8L << 20, Duration.ofSeconds(5));
        BasaltServer.Settings settings = BasaltServer.Settings.forTests(model)
                .withEngine(new EngineConfig(concurrency, 2048, 256L << 20, false)).withMaxQueue(concurrency).withServer(net);
        try (BasaltServer server = BasaltServer.start(settings);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            int[][] prompts = new int[concurrency][];
            for (int c = 0; c < concurrency; c++) prompts[c] = server.model().encodePrompt("Once upon a time " + c);
            String name = server.model().id();
            System.out.printf("%-8s %3s %10s %10s %10s %10s %8s%n", "path", "C", "ttft p50", "ttft p99", "itl p50", "itl p99", "tok/s");
            for (int round = 0; round <= rounds; round++) { // round 0 warms up every path
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
                    System.out.printf(Locale.ROOT, "%-8s %3d %8.1fms %8.1fms %8.2fms %8.2fms %8.0f%n", path, concurrency,
                            pct(ttft, 50), pct(ttft, 99), pct(itl, 50), pct(itl, 99), total / seconds);
                    System.out.printf(Locale.ROOT, "RESULT path=%s C=%d round=%d ttft_p50_ms=%.2f ttft_p99_ms=%.2f itl_p50_ms=%.3f "
                            + "itl_p99_ms=%.3f tok_s=%.1f%n", path, concurrency, round, pct(ttft, 50), pct(ttft, 99),
                            pct(itl, 50), pct(itl, 99), total / seconds);
                }
            }
            channel.shutdownNow();
        }
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
