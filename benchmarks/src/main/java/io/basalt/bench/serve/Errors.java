package io.basalt.bench.serve;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Failed requests grouped by kind, each with its count and the first message seen (the server's own
 * words for an HTTP error): what a user needs on the terminal to see why requests failed, where the
 * results file has every request's message.
 */
public final class Errors {
    /** One kind of failure: http_404, timeout, connection, bad_stream. */
    public record Kind(String name, int count, String firstMessage) { }

    private Errors() {}

    /** The failed records' kinds, in order of first appearance (by request index). */
    public static List<Kind> of(List<RequestRecord> records) {
        List<String[]> failed = new ArrayList<>();
        records.stream().filter(r -> !r.ok()).sorted(java.util.Comparator.comparingInt(RequestRecord::index))
                .forEach(r -> failed.add(new String[] {r.error(), r.errorDetail()}));
        return group(failed);
    }

    /** The failed exchanges' kinds (the warm-up, which is not recorded). */
    static List<Kind> ofExchanges(List<StreamClient.Exchange> exchanges) {
        List<String[]> failed = new ArrayList<>();
        for (StreamClient.Exchange x : exchanges) if (x.error() != null) failed.add(new String[] {x.error(), x.errorDetail()});
        return group(failed);
    }

    private static List<Kind> group(List<String[]> failed) {
        Map<String, int[]> counts = new LinkedHashMap<>();
        Map<String, String> first = new LinkedHashMap<>();
        for (String[] f : failed) {
            counts.computeIfAbsent(f[0], k -> new int[1])[0]++;
            if (first.get(f[0]) == null && f[1] != null && !f[1].isBlank()) first.put(f[0], f[1]);
        }
        List<Kind> out = new ArrayList<>();
        counts.forEach((k, n) -> out.add(new Kind(k, n[0], first.getOrDefault(k, ""))));
        return out;
    }

    /** "  http_404 (5 requests): The model 'wrong' does not exist", one line per kind. */
    public static void print(PrintWriter err, List<Kind> kinds) {
        for (Kind k : kinds) {
            err.println("  " + k.name() + " (" + k.count() + (k.count() == 1 ? " request" : " requests") + ")"
                    + (k.firstMessage().isEmpty() ? "" : ": " + oneLine(k.firstMessage())));
        }
    }

    /**
     * The errors of a finished run on stderr, when there were any: a heading, then one line per kind.
     *
     * @param where "" or a sweep point ("rate=4: ")
     */
    static void report(PrintWriter err, String where, BenchResult r) {
        Summary s = r.summary();
        if (s.failed() == 0) return;
        err.println("basalt: " + where + s.failed() + " of " + (s.completed() + s.failed()) + " requests failed (first message of each kind):");
        print(err, of(r.requests()));
        err.flush();
    }

    /**
     * Nothing could be measured (every warm-up request failed, or no measured request succeeded): the
     * command exits 1, after the kinds of error and then this message.
     */
    public static final class RunFailed extends RuntimeException {
        private final transient List<Kind> kinds;

        public RunFailed(String message, List<Kind> kinds) {
            super(message);
            this.kinds = List.copyOf(kinds);
        }

        public List<Kind> kinds() { return kinds; }
    }

    private static String oneLine(String s) { return s.replaceAll("\\s*\\R\\s*", " ").strip(); }
}
