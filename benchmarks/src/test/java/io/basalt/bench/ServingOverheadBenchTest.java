package io.basalt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.testing.Shared;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * {@code basalt bench-serving}: --help is usage and exit 0, bad arguments one "basalt: ..." line and
 * exit 2 (it used to be a stack trace), and a run's table comes last on stdout with no per-request
 * log lines anywhere (they used to bury it: the level was set on a logger nobody held).
 */
class ServingOverheadBenchTest {
    record Outcome(int rc, String out, String err) { }

    static Outcome run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = ServingOverheadBench.execute(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Outcome(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpIsUsageAndBadArgumentsOneLine() {
        Outcome help = run("--help");
        assertEquals(0, help.rc(), help.err());
        assertTrue(help.out().startsWith("Usage: basalt bench-serving") && help.out().contains("MODEL_PATH")
                && help.out().contains("--concurrency=C"), help.out());
        String model = Shared.model("stories260K/stories260K.bin").toString();
        for (String[] args : new String[][] {{}, {model, "--concurrency", "0"}, {model, "--rounds", "x"}, {model, "--bogus"},
                {"no/such/model.bin"}, {model, "extra"}}) {
            Outcome o = run(args);
            assertEquals(2, o.rc(), String.join(" ", args) + " -> " + o.err());
            assertTrue(o.err().startsWith("basalt: ") && o.err().strip().lines().count() == 1, o.err());
            assertEquals("", o.out());
        }
    }

    /** java.util.logging holds loggers weakly: the quieted level must survive a collection. */
    @Test
    void requestLogStaysQuietAfterAGarbageCollection() {
        ServingOverheadBench.quietRequestLog();
        for (int i = 0; i < 3; i++) System.gc();
        assertFalse(Logger.getLogger("basalt.requests").isLoggable(Level.INFO));
    }

    @Test
    void tableComesLastWithoutRequestLogLines() {
        List<LogRecord> requestLines = new CopyOnWriteArrayList<>();
        Handler catcher = new Handler() {
            @Override
            public void publish(LogRecord r) { if ("basalt.requests".equals(r.getLoggerName())) requestLines.add(r); }

            @Override
            public void flush() { }

            @Override
            public void close() { }
        };
        Logger root = Logger.getLogger("");
        root.addHandler(catcher);
        try {
            Outcome o = run(Shared.model("stories260K/stories260K.bin").toString(), "--concurrency", "2", "--max-tokens", "4", "--rounds", "1");
            assertEquals(0, o.rc(), o.err());
            assertEquals(List.of(), requestLines, "no per-request log lines");
            List<String> lines = o.out().strip().lines().toList();
            assertEquals(7, lines.size(), o.out());
            assertTrue(lines.getFirst().matches("path +round +C +ttft p50 +ttft p99 +itl p50 +itl p99 +tok/s"), lines.getFirst());
            for (int i = 0; i < 3; i++) {
                String path = List.of("engine", "http", "grpc").get(i);
                assertTrue(lines.get(1 + i).matches(path + " +1 +2 +[0-9.]+ms +[0-9.]+ms +[0-9.]+ms +[0-9.]+ms +[0-9]+"), lines.get(1 + i));
                assertTrue(lines.get(4 + i).startsWith("RESULT path=" + path + " C=2 round=1 "), lines.get(4 + i));
            }
            assertTrue(o.err().contains("bench-serving: round 1 of 1"), o.err());
        } finally {
            root.removeHandler(catcher);
        }
    }
}
