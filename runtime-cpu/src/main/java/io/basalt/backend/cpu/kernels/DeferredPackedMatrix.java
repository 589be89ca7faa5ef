package io.basalt.backend.cpu.kernels;

import io.basalt.model.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * An fp32 or bf16 weight served straight from its stored rows ([rows, cols], e.g. the mapped checkpoint)
 * until {@link #pack} has made its {@link PackedMatrix} copy, then through that copy. Why: packing a large
 * model writes all of its weights into new memory before the first token, and on the build VM fresh memory
 * is what costs (touching 2.2 GB of it for the first time took 4–13 s, against 0.34 s to read the mapped
 * 1B bf16 checkpoint through); a background packer moves that cost after the first token.
 *
 * <p>The stored rows take row dots: one token streams each row once (bandwidth-bound, like the packed
 * decode); a batch widens each row into an fp32 buffer once and dots it with every token. The packed
 * kernels sum in another order, so a result may move by fp32 rounding when the copy takes over, as it may
 * between batch compositions.
 */
public final class DeferredPackedMatrix implements WeightMatrix {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final ValueLayout.OfFloat F32_LE = VectorKernels.F32_LE;

    private final MemorySegment src;
    private final DType dtype;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    private volatile PackedMatrix packed;

    public DeferredPackedMatrix(MemorySegment src, DType dtype, int rows, int cols) {
        if (!supports(dtype)) throw new IllegalArgumentException("rows served in place are F32 or BF16, got " + dtype);
        this.rowBytes = dtype.byteSize(cols);
        if (src.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("expected " + rowBytes * rows + " bytes for " + rows + "x" + cols + " " + dtype
                    + ", got " + src.byteSize());
        }
        this.src = src;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    /** Whether rows of this dtype can be served in place (bf16 widens with a shift in 8-lane pieces). */
    public static boolean supports(DType dtype) {
        return dtype == DType.F32 || dtype == DType.BF16;
    }

    /**
     * Packs the rows into {@code arena} on the calling thread alone (the kernel threads keep serving) and
     * switches every later call to the packed copy, which it returns. Called once.
     */
    public PackedMatrix pack(Arena arena) {
        PackedMatrix p = PackedMatrix.fromRowMajor(src, dtype, rows, cols, arena, PackedMatrix.WIDE, false);
        packed = p;
        return p;
    }

    // When a product last ran from stored rows (System.nanoTime; 0: never), across models: the packer's cue.
    private static volatile long firstServed, lastServed;

    /**
     * Waits until packing should start: once a product from stored rows has run and the kernels then paused
     * for {@code quietNanos} (the first forward is over), once they have been busy for {@code busyNanos} since
     * the first product, or once none has run for {@code idleNanos} from now (nothing asked for the model yet).
     * Why: on two cores a packer beside the first forward slowed it by half; after it, only later tokens wait.
     */
    public static void awaitPackingCue(long quietNanos, long busyNanos, long idleNanos) throws InterruptedException {
        long start = System.nanoTime();
        while (true) {
            long now = System.nanoTime(), first = firstServed, last = lastServed;
            if (first == 0 ? now - start >= idleNanos : now - last >= quietNanos || now - first >= busyNanos) return;
            Thread.sleep(5);
        }
    }

    private static void served() {
        long now = System.nanoTime();
        if (firstServed == 0) firstServed = now;
        lastServed = now;
    }

    /** Whether {@link #pack} has finished. */
    public boolean isPacked() { return packed != null; }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    public DType dtype() { return dtype; }

    @Override
    public void matmul(float[][] x, float[][] y) {
        PackedMatrix p = packed;
        if (p != null) {
            p.matmul(x, y);
            return;
        }
        int batch = x.length;
        if (batch == 1 && dtype == DType.F32) {
            float[] x0 = x[0], y0 = y[0];
            Parallel.forRangeFine(rows, rowBytes, (start, end) -> {
                for (int r = start; r < end; r++) y0[r] = VectorKernels.dotF32(src, rowBytes * r, x0, cols);
            });
            served();
            return;
        }
        Parallel.RangeBody body = (start, end) -> {
            float[] w = new float[cols];
            for (int r = start; r < end; r++) {
                row(r, w);
                for (int t = 0; t < batch; t++) y[t][r] = VectorKernels.dot(w, 0, x[t], 0, cols);
            }
        };
        if (batch == 1) Parallel.forRangeFine(rows, rowBytes, body);
        else Parallel.forRange(rows, rowBytes * batch, body);
        served();
    }

    @Override
    public void row(int r, float[] out) {
        PackedMatrix p = packed;
        if (p != null) {
            p.row(r, out);
            return;
        }
        long off = rowBytes * r;
        if (dtype == DType.F32) {
            MemorySegment.copy(src, F32_LE, off, out, 0, cols);
            return;
        }
        int i = 0;
        for (; i + 8 <= cols; i += 8) { // bf16 → fp32: the 16 bits become the high half (sign-extension is shifted out)
            ((IntVector) ShortVector.fromMemorySegment(S, src, off + 2L * i, VectorKernels.LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, i);
        }
        for (; i < cols; i++) out[i] = VectorKernels.bf16ToFloat(src.get(VectorKernels.I16_LE, off + 2L * i));
    }
}
