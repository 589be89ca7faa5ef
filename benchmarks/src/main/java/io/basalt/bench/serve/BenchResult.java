package io.basalt.bench.serve;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The results file of one run: the label it is compared under, the full configuration, the client's
 * environment, the summary, the server's /metrics view (when scraped) and every request's raw record.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BenchResult(String label, Map<String, Object> config, Map<String, Object> environment, Summary summary,
                          ServerMetricsView server, List<RequestRecord> requests) {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public void write(Path file) { writeJson(file, this); }

    public static BenchResult read(Path file) { return readJson(file, BenchResult.class); }

    static void writeJson(Path file, Object value) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            JSON.writeValue(file.toFile(), value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    static <T> T readJson(Path file, Class<T> type) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such file");
        try {
            return JSON.readValue(file.toFile(), type);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not a results file of basalt bench (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }

    /** Where the client ran: comparisons are only fair when this is known. */
    static Map<String, Object> environment(List<String> commandLine) {
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("time", Instant.now().toString());
        env.put("client", "basalt bench serve 0.1.0");
        env.put("command_line", commandLine);
        env.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        env.put("cpus", Runtime.getRuntime().availableProcessors());
        env.put("max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
        env.put("jvm_args", ManagementFactory.getRuntimeMXBean().getInputArguments());
        try {
            env.put("host", InetAddress.getLocalHost().getHostName());
        } catch (IOException e) {
            env.put("host", "unknown");
        }
        return env;
    }
}
