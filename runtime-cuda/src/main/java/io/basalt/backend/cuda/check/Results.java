package io.basalt.backend.cuda.check;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The check's findings: one row per measured thing, written to {@code results.json} after every row (a run killed by
 * the outer timeout still leaves what it measured) and to {@code results.md} and a one-screen table at the end.
 */
final class Results {
    /** PASS and FAIL of a correctness gate decide the exit status; a speed target's only report. */
    enum Status { PASS, FAIL, SKIP, INFO }

    /** {@code gate}: a correctness gate (its FAIL fails the check) rather than a speed target. */
    record Row(String step, String name, Status status, boolean gate, String value, String detail, Map<String, Object> data) { }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final List<Row> rows = new ArrayList<>();
    private final Map<String, Object> environment = new LinkedHashMap<>();
    private final String started = Instant.now().toString();

    Results(Path dir) {
        this.dir = dir;
    }

    List<Row> rows() { return List.copyOf(rows); }

    void environment(String key, Object value) {
        environment.put(key, value);
        flush();
    }

    Row add(String step, String name, Status status, boolean gate, String value, String detail, Map<String, Object> data) {
        Row r = new Row(step, name, status, gate, value == null ? "" : value, detail == null ? "" : detail, data == null ? Map.of() : data);
        rows.add(r);
        flush();
        return r;
    }

    Row skip(String step, String name, String reason) { return add(step, name, Status.SKIP, false, "", reason, null); }

    /** Every correctness gate held (skipped ones do not count against it). */
    boolean gatesPassed() { return rows.stream().noneMatch(r -> r.gate() && r.status() == Status.FAIL); }

    private void flush() {
        if (dir == null) return;
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("started", started);
        doc.put("updated", Instant.now().toString());
        doc.put("environment", environment);
        doc.put("gates_passed", gatesPassed());
        List<Map<String, Object>> list = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", r.step());
            m.put("name", r.name());
            m.put("status", r.status().name().toLowerCase(Locale.ROOT));
            m.put("gate", r.gate());
            m.put("value", r.value());
            m.put("detail", r.detail());
            if (!r.data().isEmpty()) m.put("data", r.data());
            list.add(m);
        }
        doc.put("results", list);
        try {
            // Write then rename: a reader (or a kill) never sees half a file.
            Path tmp = dir.resolve("results.json.tmp");
            JSON.writeValue(tmp.toFile(), doc);
            Files.move(tmp, dir.resolve("results.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve("results.json") + ": " + e.getMessage(), e);
        }
    }

    /** The one-screen table: step, what, status, value (details only for failures and skips, cut to fit). */
    String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-4s %-56s %-5s %s%n", "step", "check", "", "value"));
        for (Row r : rows) {
            String value = r.value();
            if (r.status() == Status.SKIP || r.status() == Status.FAIL) value = (value.isEmpty() ? "" : value + "  ") + cut(r.detail(), 70);
            sb.append(String.format(Locale.ROOT, "%-4s %-56s %-5s %s%n", r.step(), cut(r.name(), 56), r.status(), value));
        }
        sb.append(gatesPassed() ? "correctness: PASS" : "correctness: FAIL").append(System.lineSeparator());
        return sb.toString();
    }

    void writeMarkdown() {
        if (dir == null) return;
        StringBuilder md = new StringBuilder("# basalt cuda check\n\n");
        md.append("started ").append(started).append("\n\n| key | value |\n| --- | --- |\n");
        environment.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(esc(String.valueOf(v))).append(" |\n"));
        md.append("\n| step | check | status | gate | value | detail |\n| --- | --- | --- | --- | --- | --- |\n");
        for (Row r : rows) {
            md.append("| ").append(r.step()).append(" | ").append(esc(r.name())).append(" | ").append(r.status()).append(" | ")
                    .append(r.gate() ? "correctness" : "speed/info").append(" | ").append(esc(r.value())).append(" | ")
                    .append(esc(r.detail())).append(" |\n");
        }
        md.append("\n").append(gatesPassed() ? "Correctness gates: **PASS**" : "Correctness gates: **FAIL**").append("\n");
        try {
            Files.writeString(dir.resolve("results.md"), md);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String esc(String s) { return s.replace("|", "\\|").replace("\n", " "); }

    private static String cut(String s, int n) { return s.length() <= n ? s : s.substring(0, n - 1) + "…"; }
}
