package io.basalt.server;

import io.basalt.engine.EngineConfig;
import io.basalt.model.layout.LoadOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What {@code basalt serve} configures: one model, its engine and its transports ({@link BasaltServer#start}).
 * Copies with one setting changed come from the {@code with…} methods.
 *
 * @param model           model file or directory (any supported format)
 * @param tokenizer       tokenizer file, or null to find the model's own
 * @param names           names clients may use (the first is the id /v1/models reports)
 * @param backend         backend name (cpu, ...)
 * @param engine          scheduler limits and KV budget
 * @param weights         how the weight matrices are stored (--dtype, --quantize)
 * @param maxQueue        requests admitted beyond max-num-seqs; more in flight are refused (429)
 * @param requestTimeout  per-request limit, Duration.ZERO for none
 * @param server          transport settings (host, ports, API key, body limit, shutdown grace)
 * @param compiled        an ahead-of-time compiled package for the backend ({@code --compiled}, e.g. a Neuron package
 *                        directory), or null for none; backends that compile nothing ahead refuse one
 */
public record ServeSettings(Path model, Path tokenizer, List<String> names, String backend, EngineConfig engine,
                            LoadOptions weights, int maxQueue, Duration requestTimeout, ServerConfig server,
                            Path compiled) {
    public ServeSettings {
        names = List.copyOf(names);
        if (weights == null) throw new IllegalArgumentException("weight storage options are required");
        if (names.isEmpty()) throw new IllegalArgumentException("a served model needs at least one name");
        if (maxQueue < 0) throw new IllegalArgumentException("--max-queue must be >= 0, got " + maxQueue);
        if (requestTimeout.isNegative()) throw new IllegalArgumentException("--request-timeout must not be negative");
        if (compiled != null && !Files.isDirectory(compiled)) {
            throw new IllegalArgumentException("--compiled " + compiled + ": not a directory (a compiled package: manifest.json and its files)");
        }
    }

    /** Loopback, free ports (no gRPC), 4 sequences + 16 queued, 64 MiB of KV, no timeout: for tests. */
    public static ServeSettings forTests(Path model) {
        ServerConfig s = ServerConfig.forTests();
        return new ServeSettings(model, null, List.of(model.getFileName().toString()), "cpu",
                new EngineConfig(4, 512, 64L << 20, true), LoadOptions.DEFAULT, 16, Duration.ZERO,
                new ServerConfig(s.host(), 0, -1, "", s.maxBodyBytes(), s.shutdownGrace()), null);
    }

    public ServeSettings withEngine(EngineConfig v) {
        return new ServeSettings(model, tokenizer, names, backend, v, weights, maxQueue, requestTimeout, server, compiled);
    }

    public ServeSettings withWeights(LoadOptions v) {
        return new ServeSettings(model, tokenizer, names, backend, engine, v, maxQueue, requestTimeout, server, compiled);
    }

    public ServeSettings withMaxQueue(int v) {
        return new ServeSettings(model, tokenizer, names, backend, engine, weights, v, requestTimeout, server, compiled);
    }

    public ServeSettings withServer(ServerConfig v) {
        return new ServeSettings(model, tokenizer, names, backend, engine, weights, maxQueue, requestTimeout, v, compiled);
    }

    public ServeSettings withBackend(String v) {
        return new ServeSettings(model, tokenizer, names, v, engine, weights, maxQueue, requestTimeout, server, compiled);
    }

    public ServeSettings withNames(List<String> v) {
        return new ServeSettings(model, tokenizer, v, backend, engine, weights, maxQueue, requestTimeout, server, compiled);
    }

    public ServeSettings withRequestTimeout(Duration v) {
        return new ServeSettings(model, tokenizer, names, backend, engine, weights, maxQueue, v, server, compiled);
    }

    public ServeSettings withCompiled(Path v) {
        return new ServeSettings(model, tokenizer, names, backend, engine, weights, maxQueue, requestTimeout, server, v);
    }

    /** Requests in flight at most: running + queued. */
    public int maxInFlight() { return engine.maxNumSeqs() + maxQueue; }
}
