package io.basalt.server;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.DoubleSupplier;

/**
 * The Prometheus text format (version 0.0.4), written straight into bytes. Everything fixed — the {@code # HELP} and
 * {@code # TYPE} lines, each series' name and labels, each bucket's {@code le} — is rendered once, when the metric is
 * registered; a scrape only appends numbers read from atomics and callbacks. Gateways scrape every 50 ms: a scrape
 * takes no lock and allocates one buffer.
 */
final class Exposition {
    /** One series of a gauge or counter: its rendered {@code name{labels} } prefix and where its value comes from. */
    private record Series(byte[] prefix, DoubleSupplier value) { }

    /** A family as registered: its header lines and how to write its series. */
    private interface Family {
        void writeTo(Out out);
    }

    private final List<Family> families = new ArrayList<>();
    private volatile int lastSize = 16 << 10;

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** {@code {k="v",…}} with the values escaped as the format requires; "" for no labels. */
    static String labels(String... keysAndValues) {
        if (keysAndValues.length == 0) return "";
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (i > 0) sb.append(',');
            sb.append(keysAndValues[i]).append("=\"");
            for (char c : keysAndValues[i + 1].toCharArray()) {
                switch (c) {
                    case '\\' -> sb.append("\\\\");
                    case '"' -> sb.append("\\\"");
                    case '\n' -> sb.append("\\n");
                    default -> sb.append(c);
                }
            }
            sb.append('"');
        }
        return sb.append('}').toString();
    }

    /** A gauge of one series. */
    void gauge(String name, String help, String labels, DoubleSupplier value) {
        family(name, "gauge", help, List.of(new Series(utf8(name + labels + " "), value)));
    }

    /** A counter; {@code name} ends in {@code _total}, as the samples do. */
    void counter(String name, String help, String labels, DoubleSupplier value) {
        counter(name, help, List.of(labels), List.of(value));
    }

    /** A counter with several series (e.g. one per finish reason). */
    void counter(String name, String help, List<String> labels, List<DoubleSupplier> values) {
        if (!name.endsWith("_total")) throw new IllegalArgumentException("a counter's samples end in _total: " + name);
        List<Series> series = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) series.add(new Series(utf8(name + labels.get(i) + " "), values.get(i)));
        family(name, "counter", help, series);
    }

    private void family(String name, String type, String help, List<Series> series) {
        byte[] header = header(name, type, help);
        families.add(out -> {
            out.bytes(header);
            for (Series s : series) {
                out.bytes(s.prefix());
                out.number(s.value().getAsDouble());
                out.newline();
            }
        });
    }

    /** A classic histogram: cumulative {@code _bucket}s, {@code _sum} and {@code _count}. */
    void histogram(String name, String help, String labels, Histogram h) {
        byte[] header = header(name, "histogram", help);
        String inner = labels.isEmpty() ? "" : labels.substring(1, labels.length() - 1) + ",";
        byte[][] buckets = new byte[h.bounds.length + 1][];
        for (int i = 0; i <= h.bounds.length; i++) {
            String le = i < h.bounds.length ? Double.toString(h.bounds[i]) : "+Inf";
            buckets[i] = utf8(name + "_bucket{" + inner + "le=\"" + le + "\"} ");
        }
        byte[] sum = utf8(name + "_sum" + labels + " ");
        byte[] count = utf8(name + "_count" + labels + " ");
        families.add(out -> {
            out.bytes(header);
            long cumulative = 0;
            for (int i = 0; i < buckets.length; i++) {
                cumulative += h.counts.get(i);
                out.bytes(buckets[i]);
                out.number(cumulative);
                out.newline();
            }
            out.bytes(sum);
            out.number(h.sum.sum());
            out.newline();
            out.bytes(count);
            out.number(cumulative); // the +Inf bucket, so the two always agree
            out.newline();
        });
    }

    /** Every family, in registration order. */
    byte[] scrape() {
        Out out = new Out(lastSize + 1024);
        for (Family f : families) f.writeTo(out);
        lastSize = out.size;
        return Arrays.copyOf(out.buf, out.size);
    }

    private static byte[] header(String name, String type, String help) {
        return utf8("# HELP " + name + " " + help.replace("\\", "\\\\").replace("\n", "\\n") + "\n# TYPE " + name + " " + type + "\n");
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /**
     * Observations counted into fixed buckets (upper bounds, inclusive, as Prometheus' {@code le}), plus their sum.
     * Recording is two atomic adds, from any thread.
     */
    static final class Histogram {
        private final double[] bounds;
        private final AtomicLongArray counts;
        private final DoubleAdder sum = new DoubleAdder();

        Histogram(double... bounds) {
            for (int i = 1; i < bounds.length; i++) {
                if (!(bounds[i] > bounds[i - 1])) throw new IllegalArgumentException("bucket bounds must ascend: " + Arrays.toString(bounds));
            }
            this.bounds = bounds.clone();
            this.counts = new AtomicLongArray(bounds.length + 1); // the last one is +Inf
        }

        void observe(double value) {
            int i = Arrays.binarySearch(bounds, value);
            counts.incrementAndGet(i >= 0 ? i : -i - 1); // a value equal to a bound belongs to that bucket (le)
            sum.add(value);
        }
    }

    /** A growing byte buffer with the number formats of the text format. */
    private static final class Out {
        byte[] buf;
        int size;

        Out(int capacity) { buf = new byte[capacity]; }

        void bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        void newline() {
            ensure(1);
            buf[size++] = '\n';
        }

        void number(long v) { ascii(Long.toString(v)); }

        /** Go's float syntax, which Prometheus parses: {@code 12.5}, {@code 1.0E-5}, {@code +Inf}, {@code NaN}. */
        void number(double v) {
            if (Double.isNaN(v)) ascii("NaN");
            else if (Double.isInfinite(v)) ascii(v > 0 ? "+Inf" : "-Inf");
            else if (v == Math.rint(v) && Math.abs(v) < 1e15) ascii(Long.toString((long) v));
            else ascii(Double.toString(v));
        }

        private void ascii(String s) {
            int n = s.length();
            ensure(n);
            for (int i = 0; i < n; i++) buf[size++] = (byte) s.charAt(i);
        }

        private void ensure(int more) {
            if (size + more > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
        }
    }
}
