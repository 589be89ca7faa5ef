package io.basalt.server;

import java.time.Duration;

/**
 * Transport settings shared by the HTTP and gRPC servers.
 *
 * @param host            address to bind (e.g. 127.0.0.1 or 0.0.0.0)
 * @param httpPort        OpenAI-compatible HTTP port (0 = any free port)
 * @param grpcPort        gRPC port (0 = any free port, -1 = no gRPC server)
 * @param apiKey          required bearer token, or "" for none
 * @param maxBodyBytes    larger HTTP bodies get 413
 * @param shutdownGrace   how long SIGTERM waits for in-flight requests
 * @param metricsNames    the dialect of /metrics: vLLM's names (default) or basalt: ones
 * @param chat            chat template and tool-call format overrides (HTTP chat completions)
 */
public record ServerConfig(String host, int httpPort, int grpcPort, String apiKey, long maxBodyBytes, Duration shutdownGrace,
                           ServerMetrics.Names metricsNames, ChatSettings chat) {
    public ServerConfig {
        if (metricsNames == null) metricsNames = ServerMetrics.Names.VLLM;
        if (chat == null) chat = ChatSettings.DEFAULT;
        if (httpPort < 0 || httpPort > 65535) throw new IllegalArgumentException("--port must be 0..65535, got " + httpPort);
        if (grpcPort < -1 || grpcPort > 65535) throw new IllegalArgumentException("--grpc-port must be -1..65535, got " + grpcPort);
        if (maxBodyBytes <= 0) throw new IllegalArgumentException("body limit must be positive");
        apiKey = apiKey == null ? "" : apiKey;
    }

    /** The model's own chat template. */
    public ServerConfig(String host, int httpPort, int grpcPort, String apiKey, long maxBodyBytes, Duration shutdownGrace,
                        ServerMetrics.Names metricsNames) {
        this(host, httpPort, grpcPort, apiKey, maxBodyBytes, shutdownGrace, metricsNames, ChatSettings.DEFAULT);
    }

    /** vLLM's metric names. */
    public ServerConfig(String host, int httpPort, int grpcPort, String apiKey, long maxBodyBytes, Duration shutdownGrace) {
        this(host, httpPort, grpcPort, apiKey, maxBodyBytes, shutdownGrace, ServerMetrics.Names.VLLM);
    }

    public ServerConfig withChat(ChatSettings v) {
        return new ServerConfig(host, httpPort, grpcPort, apiKey, maxBodyBytes, shutdownGrace, metricsNames, v);
    }

    public boolean requiresApiKey() { return !apiKey.isEmpty(); }

    /** Loopback, any free ports, no key, 8 MiB bodies, 30 s grace: for tests. */
    public static ServerConfig forTests() { return new ServerConfig("127.0.0.1", 0, 0, "", 8L << 20, Duration.ofSeconds(30)); }
}
