package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Converts a stored float weight matrix (F32, F16 or BF16) to another storage type once, at load:
 * F32, BF16 (round to nearest even), F16 or Q8_0 (ggml's block layout). Block-quantized sources
 * (Q8_0, Q4_0) are used as they are. The copy is allocated in the caller's arena, so it lives
 * exactly as long as the checkpoint it came from.
 */
public final class WeightConversion {
    private WeightConversion() {}

    /** A matrix's bytes and how they are encoded. */
    public record Stored(MemorySegment data, DType dtype) { }

    /** Block size of Q8_0: a row must hold whole blocks. */
    public static final int Q8_BLOCK = 32;

    private static final int Q8_BYTES = 34;

    /** Whether a row of {@code cols} elements can be stored as {@code target}. */
    public static boolean fits(DType target, long cols) { return cols % target.blockSize() == 0; }

    /** The float types a matrix can be converted from and to (Q8_0 is a target only). */
    public static boolean isFloat(DType t) { return t == DType.F32 || t == DType.F16 || t == DType.BF16; }

    /**
     * A row-major [rows, cols] matrix re-encoded as {@code target}; the source itself when it is
     * already {@code target} or block-quantized.
     */
    public static Stored convert(MemorySegment src, DType source, int rows, int cols, DType target, Arena arena) {
        if (source == target || source.isQuantized()) return new Stored(src, source);
        checkTypes(source, target, cols);
        long srcRow = source.byteSize(cols);
        if (src.byteSize() != srcRow * rows) {
            throw new IllegalArgumentException("expected " + srcRow * rows + " bytes for " + rows + "x" + cols + " " + source
                    + ", got " + src.byteSize());
        }
        long dstRow = target.byteSize(cols);
        MemorySegment dst = arena.allocate(dstRow * rows, 64);
        Parallel.forRange(rows, 8L * cols, (start, end) -> {
            Codec codec = new Codec(cols);
            for (int r = start; r < end; r++) {
                codec.decode(src, source, srcRow * r);
                codec.encode(dst, target, dstRow * r);
            }
        });
        return new Stored(dst, target);
    }

    /**
     * A [in, out] matrix (GPT-2's Conv1D layout) transposed into a row-major [out, in] matrix of
     * {@code target}, for the row kernels.
     */
    public static Stored transpose(MemorySegment src, DType source, int in, int out, DType target, Arena arena) {
        checkTypes(source, target, in);
        long elem = source.byteSize(1);
        if (src.byteSize() != elem * in * out) {
            throw new IllegalArgumentException("expected " + elem * in * out + " bytes for " + in + "x" + out + " " + source
                    + ", got " + src.byteSize());
        }
        long dstRow = target.byteSize(in);
        MemorySegment dst = arena.allocate(dstRow * out, 64);
        int tile = 16; // output rows gathered per pass: each source row is read in 16-element runs
        int tiles = (out + tile - 1) / tile;
        Parallel.forRange(tiles, 8L * in * tile, (start, end) -> {
            float[][] rowsOut = new float[tile][in];
            Codec codec = new Codec(in);
            Codec run = new Codec(tile);
            for (int t = start; t < end; t++) {
                int r0 = t * tile;
                int n = Math.min(tile, out - r0);
                for (int i = 0; i < in; i++) {
                    long o = elem * ((long) i * out + r0);
                    if (source == DType.F32) {
                        for (int k = 0; k < n; k++) rowsOut[k][i] = src.get(VectorKernels.F32_LE, o + 4L * k);
                    } else {
                        run.decode(src, source, o, n);
                        for (int k = 0; k < n; k++) rowsOut[k][i] = run.row[k];
                    }
                }
                for (int k = 0; k < n; k++) {
                    System.arraycopy(rowsOut[k], 0, codec.row, 0, in);
                    codec.encode(dst, target, dstRow * (r0 + k));
                }
            }
        });
        return new Stored(dst, target);
    }

    private static void checkTypes(DType source, DType target, long cols) {
        if (!isFloat(source)) throw new IllegalArgumentException("cannot convert " + source + " weights (F32, F16 or BF16 only)");
        if (!isFloat(target) && target != DType.Q8_0) {
            throw new IllegalArgumentException("cannot store weights as " + target + " (F32, BF16, F16 or Q8_0 only)");
        }
        if (!fits(target, cols)) {
            throw new IllegalArgumentException(target + " needs rows of a multiple of " + target.blockSize() + " elements, got " + cols);
        }
    }

    /** fp32 → bf16, rounding to nearest even; a NaN stays a (quiet) NaN with its sign. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounded = (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
        int nan = (bits >>> 16) | 0x0040; // truncating alone could turn a NaN into an infinity
        return (short) ((bits & 0x7FFF_FFFF) > 0x7F80_0000 ? nan : rounded);
    }

    /**
     * Quantizes x[off, off + 32) into one 34-byte Q8_0 block at {@code out[outOff]}: fp16 scale d
     * (little-endian), then 32 int8 q with x ≈ q·d. Unlike ggml's reference, which divides by the
     * fp32 max|x|/127, q is rounded against the stored fp16 d, nudged up one step when rounding made
     * it too small to reach max|x| with 127; so every element is within d/2 of q·d.
     */
    public static void quantizeQ8_0(float[] x, int off, byte[] out, int outOff) {
        float amax = 0f;
        for (int j = 0; j < Q8_BLOCK; j++) {
            float a = Math.abs(x[off + j]);
            if (a > amax) amax = a; // NaNs are skipped (and quantize to 0)
        }
        short dBits = Float.floatToFloat16(amax / 127f);
        if (amax > 65504f * 127f) dBits = 0x7BFF; // beyond fp16: saturate at the largest scale
        else if ((double) Float.float16ToFloat(dBits) * 127 < amax) dBits++;
        float d = Float.float16ToFloat(dBits);
        float id = d > 0f ? 1f / d : 0f;
        out[outOff] = (byte) dBits;
        out[outOff + 1] = (byte) (dBits >> 8);
        for (int j = 0; j < Q8_BLOCK; j++) {
            out[outOff + 2 + j] = (byte) Math.max(-127, Math.min(127, Math.round(x[off + j] * id)));
        }
    }

    /** One row in flight: decoded to fp32, then encoded into the target type. */
    private static final class Codec {
        final float[] row;
        final short[] halves;
        final byte[] blocks;

        Codec(int cols) {
            row = new float[cols];
            halves = new short[cols];
            blocks = new byte[cols / Q8_BLOCK * Q8_BYTES];
        }

        void decode(MemorySegment src, DType type, long off) { decode(src, type, off, row.length); }

        void decode(MemorySegment src, DType type, long off, int n) {
            switch (type) {
                case F32 -> MemorySegment.copy(src, VectorKernels.F32_LE, off, row, 0, n);
                case BF16 -> {
                    MemorySegment.copy(src, VectorKernels.I16_LE, off, halves, 0, n);
                    for (int i = 0; i < n; i++) row[i] = VectorKernels.bf16ToFloat(halves[i]);
                }
                case F16 -> {
                    MemorySegment.copy(src, VectorKernels.I16_LE, off, halves, 0, n);
                    for (int i = 0; i < n; i++) row[i] = Float.float16ToFloat(halves[i]);
                }
                default -> throw new IllegalStateException(type.name());
            }
        }

        void encode(MemorySegment dst, DType type, long off) {
            int n = row.length;
            switch (type) {
                case F32 -> MemorySegment.copy(row, 0, dst, VectorKernels.F32_LE, off, n);
                case BF16 -> {
                    for (int i = 0; i < n; i++) halves[i] = floatToBf16(row[i]);
                    MemorySegment.copy(halves, 0, dst, VectorKernels.I16_LE, off, n);
                }
                case F16 -> {
                    for (int i = 0; i < n; i++) halves[i] = Float.floatToFloat16(row[i]);
                    MemorySegment.copy(halves, 0, dst, VectorKernels.I16_LE, off, n);
                }
                case Q8_0 -> {
                    for (int b = 0; b < n / Q8_BLOCK; b++) quantizeQ8_0(row, b * Q8_BLOCK, blocks, b * Q8_BYTES);
                    MemorySegment.copy(blocks, 0, dst, ValueLayout.JAVA_BYTE, off, blocks.length);
                }
                default -> throw new IllegalStateException(type.name());
            }
        }
    }
}
