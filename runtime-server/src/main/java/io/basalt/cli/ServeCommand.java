package io.basalt.cli;

import io.basalt.engine.EngineConfig;
import io.basalt.model.layout.LoadOptions;
import io.basalt.frontend.tools.ToolCallFormat;
import io.basalt.server.BasaltServer;
import io.basalt.server.ChatSettings;
import io.basalt.server.ServeSettings;
import io.basalt.server.ServerConfig;
import io.basalt.server.ServerMetrics;
import io.basalt.server.ShutdownSignals;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code basalt serve [MODEL]}: the OpenAI-compatible HTTP server and the gRPC server over one
 * model. Numbers, sizes and durations are read as text and checked here, so a bad value is one
 * {@code basalt: ...} line and exit status 2, like every other error of the CLI.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a model over the OpenAI HTTP API (/v1/chat/completions, /v1/completions, /v1/models, /metrics) "
                + "and gRPC, until SIGTERM/SIGINT, which drains the requests in flight and exits 0.",
                "MODEL is a local model file or directory (any supported format) or a Hugging Face repo id (owner/name), "
                        + "downloaded once into ~/.cache/basalt (BASALT_CACHE); HF_TOKEN and HF_ENDPOINT are honoured. Without MODEL: "
                        + ServeCommand.DEFAULT_MODEL + "."})
public final class ServeCommand implements Callable<Integer> {
    static final String DEFAULT_MODEL = "openai-community/gpt2";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelSource modelSource;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 for all).")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "HTTP port, 0 for any free one (default: ${DEFAULT-VALUE}).")
    String port;

    @Option(names = "--grpc-port", defaultValue = "50051", description = "gRPC port, 0 for any free one, -1 for no gRPC (default: ${DEFAULT-VALUE}).")
    String grpcPort;

    @Mixin
    BackendOption backend;

    @Mixin
    CompiledOption compiled;

    @Option(names = "--served-model-name", split = ",", paramLabel = "NAME",
            description = "Name(s) clients use for the model; repeatable or comma-separated, the first is the id "
                    + "(default: the repo id or the path's file name).")
    List<String> servedModelNames = new ArrayList<>();

    @Option(names = "--tokenizer", description = "Tokenizer file (tokenizer.json or llama2.c tokenizer.bin); found beside the model when omitted.")
    Path tokenizer;

    @Option(names = "--chat-template", paramLabel = "FILE",
            description = "A Jinja chat template (Hugging Face style) used instead of the model's own.")
    Path chatTemplate;

    @Option(names = "--tool-call-parser", paramLabel = "hermes|llama3_json",
            description = "How the model writes tool calls (default: detected from the chat template; gpt-oss: harmony).")
    String toolCallParser;

    @Mixin
    WeightOptions weights;

    @Option(names = "--max-num-seqs", defaultValue = "64", description = "Most sequences running at once (default: ${DEFAULT-VALUE}).")
    String maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", defaultValue = "2048", description = "Token budget of one engine step (default: ${DEFAULT-VALUE}).")
    String maxNumBatchedTokens;

    @Option(names = "--kv-cache-memory", defaultValue = "512MiB",
            description = "Memory for the KV cache: bytes or e.g. 512MiB, 2GiB; must hold one full context (default: ${DEFAULT-VALUE}).")
    String kvCacheMemory;

    @Option(names = "--max-model-len", paramLabel = "TOKENS",
            description = "Longest prompt + output served, at most the model's context (default: the model's context).")
    String maxModelLen;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads that run the kernels of a step (cpu backend; torch: libtorch's intra-op threads) (default: one per core).")
    String threads;

    @Option(names = "--enable-prefix-caching", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Reuse the KV of identical prompt prefixes (default: on).")
    boolean prefixCaching;

    @Option(names = "--max-queue", defaultValue = "256",
            description = "Requests admitted beyond --max-num-seqs; more in flight get 429 at once (default: ${DEFAULT-VALUE}).")
    String maxQueue;

    @Option(names = "--request-timeout", defaultValue = "0", description = "Per-request time limit, e.g. 300s, 5m; 0 for none (default: ${DEFAULT-VALUE}).")
    String requestTimeout;

    @Option(names = "--shutdown-grace", defaultValue = "30s", description = "How long SIGTERM waits for requests in flight (default: ${DEFAULT-VALUE}).")
    String shutdownGrace;

    @Option(names = "--api-key", defaultValue = "${env:BASALT_API_KEY}", showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER,
            description = "Require 'Authorization: Bearer KEY' (default: $BASALT_API_KEY, else none).")
    String apiKey;

    @Option(names = "--max-request-body", defaultValue = "8MiB", description = "Larger request bodies get 413 (default: ${DEFAULT-VALUE}).")
    String maxRequestBody;

    @Option(names = "--metrics-names", defaultValue = "vllm", paramLabel = "vllm|basalt",
            description = "Names of the /metrics series: vllm (vLLM's vllm: names, which gateways and dashboards read) or basalt "
                    + "(default: ${DEFAULT-VALUE}).")
    String metricsNames;

    @Override
    public Integer call() {
        // Everything the user typed is checked before a byte is downloaded or loaded.
        String model = modelSource.reference(DEFAULT_MODEL);
        int httpPortValue = parseInt("--port", port, 0, 65535);
        int grpcPortValue = parseInt("--grpc-port", grpcPort, -1, 65535);
        EngineConfig engine = new EngineConfig(parseInt("--max-num-seqs", maxNumSeqs, 1, 1 << 20),
                parseInt("--max-num-batched-tokens", maxNumBatchedTokens, 1, 1 << 24),
                parseBytes("--kv-cache-memory", kvCacheMemory), prefixCaching,
                maxModelLen == null ? 0 : parseInt("--max-model-len", maxModelLen, 2, Integer.MAX_VALUE));
        ServerMetrics.Names metricNames = ServerMetrics.Names.parse(metricsNames);
        int queue = parseInt("--max-queue", maxQueue, 0, 1 << 24);
        LoadOptions loadOptions = weights.toLoadOptions();
        Duration timeout = parseDuration("--request-timeout", requestTimeout);
        Duration grace = parseDuration("--shutdown-grace", shutdownGrace);
        long bodyLimit = parseBytes("--max-request-body", maxRequestBody);
        if (host == null || host.isBlank()) throw new IllegalArgumentException("--host must not be empty");
        List<String> names = new ArrayList<>();
        for (String n : servedModelNames) if (!n.isBlank()) names.add(n.strip());
        if (tokenizer != null && !Files.isRegularFile(tokenizer)) {
            throw new IllegalArgumentException("--tokenizer " + tokenizer + ": no such file");
        }
        String backendName = backend.name();
        Path compiledDir = compiled.checked();
        if (threads != null) CpuThreads.set(parseInt("--threads", threads, 1, 4096), backendName);
        ChatSettings chat = ChatSettings.DEFAULT;
        if (toolCallParser != null) chat = chat.withToolCallFormat(ToolCallFormat.parse(toolCallParser));
        if (chatTemplate != null) chat = chat.withTemplate(ChatSettings.readTemplate(chatTemplate), chatTemplate.toString());
        ServerConfig server = new ServerConfig(host.strip(), httpPortValue, grpcPortValue,
                apiKey == null ? "" : apiKey.strip(), bodyLimit, grace, metricNames, chat);

        PrintWriter out = spec.commandLine().getOut();
        Path path = modelSource.resolve(model);
        if (names.isEmpty()) names.add(defaultName(model, path));
        BasaltServer basalt = BasaltServer.start(new ServeSettings(path, tokenizer, names, backendName, engine, loadOptions,
                queue, timeout, server, compiledDir));
        ShutdownSignals.install(basalt, System.err);
        out.println(basalt.readyLine());
        out.flush();
        basalt.awaitStopped();
        return 0;
    }

    private static String defaultName(String ref, Path path) { return ServedName.of(ref, path); }

    static int parseInt(String option, String value, int min, int max) {
        long v;
        try {
            v = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a whole number, got '" + value + "'");
        }
        if (v < min || v > max) throw new IllegalArgumentException(option + " must be " + min + ".." + max + ", got " + v);
        return (int) v;
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-z]*)", Pattern.CASE_INSENSITIVE);

    /** Bytes from {@code 1048576}, {@code 512MiB}, {@code 2GiB}, {@code 1.5G}, {@code 500MB} (KB/MB/GB are powers of 1000). */
    public static long parseBytes(String option, String value) {
        Matcher m = SIZE.matcher(value.strip());
        if (!m.matches()) throw new IllegalArgumentException(option + " must be a size such as 512MiB or 2GiB, got '" + value + "'");
        double factor = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1;
            case "k", "ki", "kib" -> 1L << 10;
            case "m", "mi", "mib" -> 1L << 20;
            case "g", "gi", "gib" -> 1L << 30;
            case "t", "ti", "tib" -> 1L << 40;
            case "kb" -> 1e3;
            case "mb" -> 1e6;
            case "gb" -> 1e9;
            case "tb" -> 1e12;
            default -> throw new IllegalArgumentException(option + ": unknown unit '" + m.group(2) + "' in '" + value
                    + "' (use B, KiB, MiB, GiB, TiB, KB, MB, GB)");
        };
        double bytes = Double.parseDouble(m.group(1)) * factor;
        if (bytes < 1 || bytes > Long.MAX_VALUE / 2) throw new IllegalArgumentException(option + " must be positive, got '" + value + "'");
        return (long) bytes;
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|min|h|)");

    /** A duration from {@code 300s}, {@code 5m}, {@code 1h}, {@code 250ms}, a plain number of seconds, or ISO {@code PT5M}. */
    public static Duration parseDuration(String option, String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        if (v.startsWith("pt")) {
            try {
                Duration d = Duration.parse(value.strip());
                if (d.isNegative()) throw new IllegalArgumentException(option + " must not be negative, got '" + value + "'");
                return d;
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(option + " must be a duration such as 300s or 5m, got '" + value + "'");
            }
        }
        Matcher m = DURATION.matcher(v);
        if (!m.matches()) throw new IllegalArgumentException(option + " must be a duration such as 300s or 5m, got '" + value + "'");
        double n = Double.parseDouble(m.group(1));
        double millis = switch (m.group(2)) {
            case "ms" -> n;
            case "", "s" -> n * 1e3;
            case "m", "min" -> n * 60e3;
            case "h" -> n * 3600e3;
            default -> throw new IllegalStateException();
        };
        return Duration.ofMillis(Math.round(millis));
    }
}
