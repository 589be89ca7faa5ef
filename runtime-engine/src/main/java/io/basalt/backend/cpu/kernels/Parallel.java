package io.basalt.backend.cpu.kernels;

import java.util.stream.IntStream;

/** Splits a row range into contiguous chunks run on the common pool (the caller takes part). */
public final class Parallel {
    private Parallel() {}

    public interface RangeBody { void run(int start, int end); }

    private static final int PROCESSORS = Math.max(1, Runtime.getRuntime().availableProcessors());
    private static final int CHUNKS = PROCESSORS * 4;

    /** Runs body over [0, n); serially when the work ({@code n × costPerItem}) is too small to share. */
    public static void forRange(int n, long costPerItem, RangeBody body) {
        if (PROCESSORS == 1 || n <= 1 || (long) n * costPerItem < 64 * 1024) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min(CHUNKS, n);
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int start = (int) ((long) n * c / chunks);
            int end = (int) ((long) n * (c + 1) / chunks);
            if (start < end) body.run(start, end);
        });
    }
}
