package io.basalt.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code basalt bench --compare-llamacpp DIR}: llama.cpp's own benchmarks on the same GGUF file, run right before the
 * Basalt figures of that model in the same invocation, so every ratio is side by side on the same machine state.
 * {@code llama-batched-bench -npp 16 -ntg 32 -npl 1,C…} gives decode tok/s at each concurrency (its S_TG column),
 * {@code llama-bench -p N -n 0} the prefill of an N-token prompt; both with the thread count Basalt uses.
 */
final class LlamaCppPeer {
    /** Peer figures of one model: decode tok/s by concurrency (1 = one stream), prefill tok/s (null: not run). */
    record Figures(Map<Integer, Double> decode, Double prefill, String prefillTest, String error) { }

    private final Path batchedBench;
    private final Path bench;

    private LlamaCppPeer(Path batchedBench, Path bench) {
        this.batchedBench = batchedBench;
        this.bench = bench;
    }

    /** The tools in {@code dir} (or its {@code bin/} or {@code build/bin/}); a clear error naming what is missing. */
    static LlamaCppPeer in(Path dir) {
        for (Path d : List.of(dir, dir.resolve("bin"), dir.resolve("build/bin"))) {
            Path b = d.resolve("llama-batched-bench"), p = d.resolve("llama-bench");
            if (Files.isExecutable(b) && Files.isExecutable(p)) return new LlamaCppPeer(b, p);
        }
        throw new IllegalArgumentException("--compare-llamacpp " + dir + ": no executable llama-batched-bench and llama-bench there "
                + "(nor in bin/ or build/bin/); build them as ../shared/tools/README.md shows");
    }

    /** Runs both tools on {@code gguf}; a failure is reported in the figures, never thrown. */
    Figures measure(Path gguf, List<Integer> concurrency, int prompt, int threads) {
        if (!gguf.getFileName().toString().endsWith(".gguf")) {
            return new Figures(Map.of(), null, null, "llama.cpp reads GGUF files only; " + gguf.getFileName() + " is not one");
        }
        List<Integer> npl = new ArrayList<>();
        npl.add(1);
        for (int c : concurrency) if (!npl.contains(c)) npl.add(c);
        int maxC = npl.stream().mapToInt(Integer::intValue).max().orElse(1);
        String joined = String.join(",", npl.stream().map(String::valueOf).toList());
        Map<Integer, Double> decode;
        Double prefill = null;
        try {
            String out = run(List.of(batchedBench.toString(), "-m", gguf.toString(), "-c", String.valueOf(Math.max(4096, maxC * 64)),
                    "-b", "2048", "-ub", "512", "-npp", "16", "-ntg", "32", "-npl", joined, "-t", String.valueOf(threads)), 900);
            decode = parseBatched(out);
            String json = run(List.of(bench.toString(), "-m", gguf.toString(), "-t", String.valueOf(threads), "-p", String.valueOf(prompt),
                    "-n", "0", "-o", "json"), 900);
            prefill = parsePrefill(json, prompt);
        } catch (IOException | RuntimeException e) {
            return new Figures(Map.of(), null, null, "llama.cpp: " + e.getMessage());
        }
        return new Figures(decode, prefill, "pp" + prompt, null);
    }

    private static String run(List<String> command, int timeoutSeconds) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(Path.of(command.getFirst()).getFileName() + " ran past " + timeoutSeconds + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            String tail = text.length() > 400 ? text.substring(text.length() - 400) : text;
            throw new IOException(Path.of(command.getFirst()).getFileName() + " exited with " + p.exitValue() + ": " + tail.strip());
        }
        return text;
    }

    /** llama-batched-bench's markdown table: B → S_TG t/s (columns found by their header names). */
    static Map<Integer, Double> parseBatched(String out) {
        Map<Integer, Double> byB = new LinkedHashMap<>();
        int bCol = -1, tgCol = -1;
        for (String line : out.split("\n")) {
            line = line.strip();
            if (!line.startsWith("|")) continue;
            String[] cells = line.substring(1, line.length() - (line.endsWith("|") ? 1 : 0)).split("\\|");
            for (int i = 0; i < cells.length; i++) cells[i] = cells[i].strip();
            if (bCol < 0) {
                for (int i = 0; i < cells.length; i++) {
                    if (cells[i].equals("B")) bCol = i;
                    if (cells[i].equals("S_TG t/s")) tgCol = i;
                }
                continue;
            }
            if (tgCol < 0 || cells.length <= Math.max(bCol, tgCol) || cells[bCol].startsWith("-")) continue;
            try {
                byB.put(Integer.parseInt(cells[bCol]), Double.parseDouble(cells[tgCol]));
            } catch (NumberFormatException e) {
                // a separator or a row of another shape
            }
        }
        if (byB.isEmpty()) throw new IllegalStateException("llama-batched-bench printed no S_TG figures");
        return byB;
    }

    /** llama-bench -o json: the avg_ts of the test with n_prompt = prompt and n_gen = 0. */
    static Double parsePrefill(String out, int prompt) throws IOException {
        int start = out.indexOf('[');
        if (start < 0) throw new IllegalStateException("llama-bench printed no JSON");
        JsonNode arr = new ObjectMapper().readTree(out.substring(start, out.lastIndexOf(']') + 1));
        for (JsonNode t : arr) {
            if (t.path("n_prompt").asInt() == prompt && t.path("n_gen").asInt() == 0) return t.path("avg_ts").asDouble();
        }
        throw new IllegalStateException("llama-bench printed no pp" + prompt + " result");
    }

    /** The side-by-side lines of one model: figure, llama.cpp, Basalt, ratio (Basalt ÷ llama.cpp). */
    static List<String> compare(String model, Figures peer, BenchReport.ModelResult basalt) {
        List<String> lines = new ArrayList<>();
        if (peer.error() != null) {
            lines.add(String.format(Locale.ROOT, "%-24s llama.cpp not compared: %s", model, peer.error()));
            return lines;
        }
        Double one = basalt.decode() == null ? null : basalt.decode().tokPerSec();
        lines.add(row(model, "decode, 1 stream", peer.decode().get(1), one));
        if (basalt.aggregate() != null) {
            for (BenchReport.Aggregate a : basalt.aggregate()) {
                lines.add(row(model, "decode, " + a.concurrency() + " streams", peer.decode().get(a.concurrency()), a.tokPerSec()));
            }
        }
        Double pre = basalt.prefill() == null ? null : basalt.prefill().tokPerSec();
        lines.add(row(model, "prefill " + (basalt.prefill() == null ? "" : basalt.prefill().tokens()) + " (" + peer.prefillTest() + ")",
                peer.prefill(), pre));
        return lines;
    }

    private static String row(String model, String figure, Double peer, Double basalt) {
        String ratio = peer == null || basalt == null || peer == 0 ? "-" : String.format(Locale.ROOT, "%.2f", basalt / peer);
        return String.format(Locale.ROOT, "%-24s %-26s %12s %12s %7s", model, figure, fmt(peer), fmt(basalt), ratio);
    }

    private static String fmt(Double v) { return v == null ? "-" : String.format(Locale.ROOT, "%.1f", v); }

    static String header() {
        return String.format(Locale.ROOT, "%-24s %-26s %12s %12s %7s", "model", "figure (tok/s)", "llama.cpp", "Basalt", "ratio");
    }
}
