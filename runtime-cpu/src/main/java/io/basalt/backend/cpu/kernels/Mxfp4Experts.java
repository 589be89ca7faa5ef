package io.basalt.backend.cpu.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * gpt-oss expert weights in MXFP4: for each of {@code numExperts} experts a [rows, cols] matrix
 * whose rows are split into blocks of 32 FP4 (E2M1) values, packed two per byte (element 2j in the
 * low nibble of byte j), with one E8M0 scale byte per block (value = fp4 · 2^(scale − 127)).
 * Dequantized on the fly; the packed bytes are read straight from the mapped file.
 */
public final class Mxfp4Experts {
    /** FP4 E2M1 code → value; bit 3 is the sign. */
    static final float[] FP4 = {
        +0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
        -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f,
    };

    private final MemorySegment blocks; // [experts, rows, cols/32, 16] u8
    private final MemorySegment scales; // [experts, rows, cols/32] u8
    private final int numExperts;
    private final int rows;
    private final int cols;
    private final int blocksPerRow;

    public Mxfp4Experts(MemorySegment blocks, MemorySegment scales, int numExperts, int rows, int cols) {
        if (cols % 32 != 0) throw new IllegalArgumentException("MXFP4 rows need a multiple of 32 columns, got " + cols);
        this.blocksPerRow = cols / 32;
        long nBlocks = (long) numExperts * rows * blocksPerRow;
        if (blocks.byteSize() != nBlocks * 16 || scales.byteSize() != nBlocks) {
            throw new IllegalArgumentException("MXFP4 sizes disagree: blocks " + blocks.byteSize() + " bytes, scales "
                    + scales.byteSize() + " bytes for " + numExperts + "x" + rows + "x" + cols);
        }
        this.blocks = blocks;
        this.scales = scales;
        this.numExperts = numExperts;
        this.rows = rows;
        this.cols = cols;
    }

    public int numExperts() { return numExperts; }

    public int rows() { return rows; }

    public int cols() { return cols; }

    /** y[0..rows) = W_expert · x[0..cols). */
    public void matvec(int expert, float[] x, float[] y) {
        long firstBlock = (long) expert * rows * blocksPerRow;
        Parallel.forRange(rows, 17L * blocksPerRow, (start, end) -> {
            for (int r = start; r < end; r++) y[r] = dotRow(firstBlock + (long) r * blocksPerRow, x);
        });
    }

    private float dotRow(long block, float[] x) {
        float sum = 0f;
        for (int b = 0; b < blocksPerRow; b++) {
            long blk = block + b;
            float scale = Math.scalb(1f, (scales.get(ValueLayout.JAVA_BYTE, blk) & 0xFF) - 127);
            long o = blk * 16;
            int xi = b * 32;
            float s = 0f;
            for (int j = 0; j < 16; j++) {
                int q = blocks.get(ValueLayout.JAVA_BYTE, o + j) & 0xFF;
                s += FP4[q & 0x0F] * x[xi + 2 * j] + FP4[q >>> 4] * x[xi + 2 * j + 1];
            }
            sum += s * scale;
        }
        return sum;
    }

    /** Writes expert e's row r, dequantized, into out[0..cols). */
    public void row(int expert, int r, float[] out) {
        long block = ((long) expert * rows + r) * blocksPerRow;
        for (int b = 0; b < blocksPerRow; b++) {
            float scale = Math.scalb(1f, (scales.get(ValueLayout.JAVA_BYTE, block + b) & 0xFF) - 127);
            long o = (block + b) * 16;
            for (int j = 0; j < 16; j++) {
                int q = blocks.get(ValueLayout.JAVA_BYTE, o + j) & 0xFF;
                out[b * 32 + 2 * j] = FP4[q & 0x0F] * scale;
                out[b * 32 + 2 * j + 1] = FP4[q >>> 4] * scale;
            }
        }
    }
}
