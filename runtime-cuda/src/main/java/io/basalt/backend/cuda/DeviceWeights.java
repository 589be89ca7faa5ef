package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.MatrixRef;
import io.basalt.model.layout.VectorRef;
import io.basalt.model.quant.Dequantize;
import io.basalt.spi.Quantization;
import io.basalt.spi.StorageDtype;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Uploads a checkpoint's tensors through the shared layouts, once: matrices [rows = out][cols = in] as fp32 or bf16
 * (every stored type decoded by {@link Dequantize}, GPT-2's Conv1D transposed), vectors fp32, MXFP4 experts as stored.
 * Matrices that one kernel reads together (q, k and v) are fused by rows here, so the forward runs one product.
 */
final class DeviceWeights {
    /** A weight matrix on the device. */
    record Matrix(DeviceBuffer data, boolean bf16, int rows, int cols) { }

    private final Checkpoint checkpoint;
    private final DeviceMemory memory;
    private final boolean bf16;
    private int maxCols;

    DeviceWeights(Checkpoint checkpoint, DeviceMemory memory, boolean bf16) {
        this.checkpoint = checkpoint;
        this.memory = memory;
        this.bf16 = bf16;
    }

    /**
     * Whether matrices are stored as bf16. AUTO keeps fp32 for fp32 and f16 checkpoints (f16 widens exactly, bf16 would
     * round) and bf16 for bf16 ones (exact) and block-quantized ones (half the bytes of fp32; the kernels read fp32 or
     * bf16 only). f16 storage and load-time quantization have no kernels: refused.
     */
    static boolean storesBf16(StorageDtype storage, Quantization quantization, DType checkpointMatrices) {
        if (quantization != Quantization.NONE) {
            throw new IllegalArgumentException("the cuda backend has no kernels for --quantize " + quantization.name().toLowerCase(java.util.Locale.ROOT)
                    + "; use --quantize none (weights as fp32 or bf16)");
        }
        return switch (storage) {
            case FP32 -> false;
            case BF16 -> true;
            case F16 -> throw new IllegalArgumentException("the cuda backend stores matrices as fp32 or bf16; --dtype f16 is not supported");
            case AUTO -> checkpointMatrices == DType.BF16 || checkpointMatrices.isQuantized();
        };
    }

    boolean bf16() { return bf16; }

    /** The most columns of any bf16 matrix made so far (0 for none): the width of Matmuls' bf16 activation scratch. */
    int maxBf16Cols() { return maxCols; }

    Checkpoint checkpoint() { return checkpoint; }

    /** The refs' rows stacked in order (all of the same cols) as one matrix. */
    Matrix matrix(MatrixRef... refs) { return matrix(bf16, refs); }

    /**
     * The output classifier (or the embedding tied to it), as the CPU backend keeps it: at the checkpoint's precision
     * when {@code --dtype bf16} asks for bf16 matrices (its rounding moves the logits directly and flips near-tied greedy
     * choices), so fp32/f16 classifiers stay fp32; bf16 and block-quantized ones are bf16 (no quantized kernels here).
     */
    Matrix classifier(MatrixRef ref) {
        DType stored = checkpoint.tensor(ref.name(), ref.storedShape()).dtype();
        return matrix(bf16 && stored != DType.F32 && stored != DType.F16, ref);
    }

    private Matrix matrix(boolean asBf16, MatrixRef... refs) {
        long cols = refs[0].cols();
        long rows = 0;
        for (MatrixRef r : refs) {
            if (r.cols() != cols) throw new IllegalArgumentException("fused matrices differ in columns: " + r.name());
            rows += r.rows();
        }
        int c = Math.toIntExact(cols);
        if (asBf16) maxCols = Math.max(maxCols, c);
        long elem = asBf16 ? 2 : 4;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(Math.max(4, rows * cols * elem), 16);
            float[] row = new float[c];
            long outRow = 0;
            for (MatrixRef ref : refs) {
                TensorInfo t = checkpoint.tensor(ref.name(), ref.storedShape());
                try {
                    if (ref.conv1d()) {
                        // stored [in, out]: column o of the stored tensor is row o of W
                        int out = Math.toIntExact(ref.rows());
                        float[] all = new float[out * c];
                        float[] stored = new float[out];
                        for (int i = 0; i < c; i++) {
                            Dequantize.row(t.data(), t.dtype(), t.dtype().byteSize((long) i * out), stored, 0, out);
                            for (int o = 0; o < out; o++) all[o * c + i] = stored[o];
                        }
                        for (int o = 0; o < out; o++) {
                            System.arraycopy(all, o * c, row, 0, c);
                            put(dst, outRow++ * cols, row, asBf16);
                        }
                    } else {
                        long rowBytes = t.dtype().byteSize(ref.cols());
                        for (long r = 0; r < ref.rows(); r++) {
                            Dequantize.row(t.data(), t.dtype(), (ref.rowStart() + r) * rowBytes, row, 0, c);
                            put(dst, outRow++ * cols, row, asBf16);
                        }
                    }
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(checkpoint.path(), "tensor '" + ref.name() + "': " + e.getMessage(), e);
                }
            }
            DeviceBuffer b = memory.alloc(dst.byteSize());
            memory.cuda().copyToDevice(b, dst, null);
            return new Matrix(b, asBf16, Math.toIntExact(rows), c);
        }
    }

    private static void put(MemorySegment dst, long index, float[] row, boolean asBf16) {
        if (asBf16) {
            for (int i = 0; i < row.length; i++) dst.setAtIndex(ValueLayout.JAVA_SHORT, index + i, toBf16(row[i]));
        } else {
            MemorySegment.copy(row, 0, dst, ValueLayout.JAVA_FLOAT, index * 4, row.length);
        }
    }

    /** Round to nearest even, as torch's .to(bfloat16); a NaN stays a (quiet) NaN. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The refs' elements, concatenated, as fp32. */
    DeviceBuffer vector(VectorRef... refs) {
        int n = 0;
        for (VectorRef r : refs) n += r.length();
        float[] all = new float[n];
        int at = 0;
        for (VectorRef r : refs) {
            float[] v = r.read(checkpoint);
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return memory.upload(all);
    }

    DeviceBuffer floats(float[] values) { return memory.upload(values); }

    /** A tensor's bytes as stored (MXFP4 blocks and scales: the kernel decodes them). */
    DeviceBuffer raw(TensorInfo t) { return memory.uploadBytes(t.data()); }
}
