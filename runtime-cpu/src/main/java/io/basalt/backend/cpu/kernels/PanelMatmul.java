package io.basalt.backend.cpu.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The batched k-block loop of the 512-bit kernels: {@link PackedMatrix} batches on AVX-512 machines
 * and {@link QuantizedRowMatrix} batches of {@link QuantizedRowMatrix#PANEL_BATCH} rows or more run
 * it, each with its own {@link PanelLoader} (panels copied or widened; Q8_0/Q4_0 rows dequantized).
 * The tiles it calls are {@link PackedKernels512}'s.
 */
final class PanelMatmul {
    private PanelMatmul() {}

    private static final int PANEL = PackedMatrix.PANEL;
    private static final int KC = PackedMatrix.KC;
    private static final ThreadLocal<float[]> SCRATCH2 = ThreadLocal.withInitial(() -> new float[KC * PANEL]);

    /** Fills w with columns [k0, k0 + kc) of panel p (rows 16p … 16p + 15), 16 floats per column. */
    interface PanelLoader {
        void load(int p, int k0, int kc, float[] w);
    }

    /**
     * y = x · Wᵀ for a batch on a 512-bit machine, W given panel by panel: per pair of panels and
     * k-block the loader fills two L1-sized blocks once, then every token row uses them, 8 rows at a
     * time (then 4, then one), each broadcast feeding two FMAs; partial sums of later k-blocks are
     * added into y with vector adds. k-blocks are multiples of 32 columns, so block-quantized rows
     * dequantize whole blocks.
     */
    static void matmul(float[][] x, float[][] y, int rows, int cols, PanelLoader loader) {
        matmul(x, y, rows, cols, loader, null, 0);
    }

    /**
     * As above; {@code inPlace}, when not null, holds the same panels as fp32 (panel p's column k at
     * float (p · stride + k) · 16), which the 8-row tiles read directly instead of the loader's copy.
     */
    static void matmul(float[][] x, float[][] y, int rows, int cols, PanelLoader loader, MemorySegment inPlace, int stride) {
        int batch = x.length;
        int eights = batch / 8, rest = batch % 8;
        int fours = rest / 4 + (rest % 4 >= 2 ? 1 : 0); // a group of 2 or 3 rows runs as 4 with zero rows
        int t4 = eights * 8, t1 = rest % 4 == 1 ? batch - 1 : -1;
        int end4 = t1 >= 0 ? t1 : batch; // the 4-row tiles cover rows [t4, end4)
        float[] x8 = eights > 0 ? PackedMatrix.interleave(x, cols, 0, eights * 8, 8, eights * 8) : null;
        float[] x4 = fours > 0 ? PackedMatrix.interleave(x, cols, t4, end4 - t4, 4, fours * 4) : null;
        int panels = (rows + PANEL - 1) / PANEL;
        int pairs = (panels + 1) / 2;
        // Large batches: k-blocks outermost, so the activations' k-slice (every row of it) stays in L2
        // while this thread's panel pairs pass through L1, instead of all of x streaming by once per
        // pair. Small ones (x fits in L2 anyway): pairs outermost, so each pair's weights are read in
        // order and its partial sums stay in cache (row-major Q8_0 rows read a k-block at a time
        // were latency-bound: 1B Q8_0 C=16 32 → 41 tok/s).
        boolean pairsOuter = 4L * batch * cols <= 512 * 1024;
        Parallel.forRange(pairs, 2L * PANEL * cols * 4 + (long) cols * PANEL * 4 * batch, (q0, q1) -> {
            float[] w = PackedMatrix.SCRATCH.get(), w2 = SCRATCH2.get(), acc = ACC16.get();
            if (pairsOuter) {
                for (int q = q0; q < q1; q++) {
                    for (int k0 = 0; k0 < cols; k0 += KC) {
                        pairBlock(x, y, rows, cols, loader, q, k0, x8, x4, eights, fours, t4, end4, t1, w, w2, acc, inPlace, stride);
                    }
                }
            } else {
                for (int k0 = 0; k0 < cols; k0 += KC) {
                    for (int q = q0; q < q1; q++) {
                        pairBlock(x, y, rows, cols, loader, q, k0, x8, x4, eights, fours, t4, end4, t1, w, w2, acc, inPlace, stride);
                    }
                }
            }
        });
    }

    /** One k-block of one pair of panels for every token row: load both blocks, then the tiles. */
    private static void pairBlock(float[][] x, float[][] y, int rows, int cols, PanelLoader loader, int q, int k0,
                                  float[] x8, float[] x4, int eights, int fours, int t4, int end4, int t1,
                                  float[] w, float[] w2, float[] acc, MemorySegment inPlace, int stride) {
        int kc = Math.min(KC, cols - k0);
        boolean first = k0 == 0;
        int p = 2 * q, col = p * PANEL;
        int valid = Math.min(PANEL, rows - col), valid2 = Math.max(0, Math.min(PANEL, rows - col - PANEL));
        boolean direct = inPlace != null && valid2 > 0; // a lone last panel takes the copy, which pads its partner
        if (direct) {
            long off = ((long) p * stride + k0) * PANEL * 4, off2 = off + (long) stride * PANEL * 4;
            for (int g = 0; g < eights; g++) {
                PackedKernels512.rows8x2(inPlace, off, off2, kc, x8, (g * cols + k0) * 8, y, g * 8, 8, col, valid, valid2, first, acc);
            }
            if (fours == 0 && t1 < 0) return;
        }
        loader.load(p, k0, kc, w);
        if (valid2 > 0) loader.load(p + 1, k0, kc, w2); // a lone last panel computes its partner's zeros
        else java.util.Arrays.fill(w2, 0, kc * PANEL, 0f);
        for (int g = 0; !direct && g < eights; g++) {
            PackedKernels512.rows8x2(w, w2, kc, x8, (g * cols + k0) * 8, y, g * 8, 8, col, valid, valid2, first, acc);
        }
        for (int g = 0; g < fours; g++) {
            int t = t4 + 4 * g, n = Math.min(4, end4 - t);
            PackedKernels512.rows4x2(w, w2, kc, x4, (g * cols + k0) * 4, y, t, n, col, valid, valid2, first, acc);
        }
        if (t1 >= 0) {
            PackedKernels512.tile1(w, kc, x[t1], k0, y[t1], col, valid, first);
            if (valid2 > 0) PackedKernels512.tile1(w2, kc, x[t1], k0, y[t1], col + PANEL, valid2, first);
        }
    }

    private static final ThreadLocal<float[]> ACC16 = ThreadLocal.withInitial(() -> new float[16 * PANEL]);
}
