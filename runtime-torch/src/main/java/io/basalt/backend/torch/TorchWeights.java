package io.basalt.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.GptOssLayout;
import io.basalt.model.layout.MatrixRef;
import io.basalt.model.layout.VectorRef;
import io.basalt.model.quant.Dequantize;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.logging.Logger;

/**
 * Copies checkpoint tensors into NDArrays of the backend's dtype: float matrices converted (bf16
 * widened, never a BF16 array), GGUF Q8_0/Q4_0 and MXFP4 dequantized, GPT-2's Conv1D transposed to
 * [out, in], all through the scalar decoders of {@link Dequantize} (nothing of the CPU backend's).
 * Everything is copied, so the checkpoint may close once the model is built.
 */
final class TorchWeights {
    private static final Logger LOG = Logger.getLogger("basalt.torch");

    private final Checkpoint checkpoint;
    private final NDManager manager;
    private final TorchDtype dtype;
    private boolean widenedBf16;

    TorchWeights(Checkpoint checkpoint, NDManager manager, TorchDtype dtype) {
        this.checkpoint = checkpoint;
        this.manager = manager;
        this.dtype = dtype;
    }

    Checkpoint checkpoint() { return checkpoint; }

    /**
     * W [rows, cols] (outputs × inputs), the layout torch's linear takes: every stored type decoded to fp32 by
     * {@link Dequantize} (GPT-2's Conv1D [in, out] transposed), then stored in the backend's dtype.
     */
    NDArray matrix(MatrixRef ref) {
        TensorInfo t = checkpoint.tensor(ref.name(), ref.storedShape());
        int rows = Math.toIntExact(ref.rows());
        int cols = Math.toIntExact(ref.cols());
        noteSource(t.dtype());
        Shape shape = new Shape(rows, cols);
        checkSize(shape);
        float[] w = new float[rows * cols];
        try {
            if (ref.conv1d()) {
                float[] stored = new float[rows]; // one input's row of the [in, out] tensor
                for (int i = 0; i < cols; i++) {
                    Dequantize.row(t.data(), t.dtype(), t.dtype().byteSize((long) i * rows), stored, 0, rows);
                    for (int o = 0; o < rows; o++) w[o * cols + i] = stored[o];
                }
            } else {
                long rowBytes = t.dtype().byteSize(ref.cols());
                for (int r = 0; r < rows; r++) {
                    Dequantize.row(t.data(), t.dtype(), (ref.rowStart() + r) * rowBytes, w, r * cols, cols);
                }
            }
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(checkpoint.path(), "tensor '" + ref.name() + "': " + e.getMessage(), e);
        }
        return create(w, shape);
    }

    /** A small fp32 tensor (norms, biases, sinks) in the backend's dtype. */
    NDArray vector(VectorRef ref) {
        noteSource(checkpoint.tensor(ref.name()).dtype());
        return create(ref.read(checkpoint), new Shape(ref.length()));
    }

    /**
     * One MXFP4 expert's [rows, cols] matrix, dequantized. {@code deinterleave} puts the even rows
     * first, then the odd ones (gpt-oss's mlp1 interleaves gate and linear rows; split, the SwiGLU
     * halves are two contiguous column ranges of the product).
     */
    NDArray expert(GptOssLayout.Experts x, int e, boolean deinterleave) {
        TensorInfo[] t = x.tensors(checkpoint); // blocks [E, rows, cols/32, 16], scales [E, rows, cols/32]
        int rows = Math.toIntExact(x.rows());
        int cols = Math.toIntExact(x.cols());
        long blocksPerRow = cols / Dequantize.BLOCK;
        float[] data = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            int to = deinterleave ? (r % 2 == 0 ? r / 2 : rows / 2 + r / 2) : r;
            Dequantize.mxfp4(t[0].data(), t[1].data(), ((long) e * rows + r) * blocksPerRow, data, to * cols, cols);
        }
        return create(data, new Shape(rows, cols));
    }

    /** Expert e's slice of a [E, n] bias, de-interleaved like {@link #expert}. */
    NDArray expertBias(float[] all, int e, int n, boolean deinterleave) {
        float[] b = new float[n];
        for (int r = 0; r < n; r++) b[deinterleave ? (r % 2 == 0 ? r / 2 : n / 2 + r / 2) : r] = all[e * n + r];
        return create(b, new Shape(n));
    }

    float[] floats(VectorRef ref) { return ref.read(checkpoint); }

    NDArray create(float[] data, Shape shape) {
        return create(MemorySegment.ofArray(data), shape);
    }

    /** A tensor of this shape fits one NDArray of the backend's dtype (checked before anything is decoded). */
    private void checkSize(Shape shape) {
        long n = shape.size();
        if (n * dtype.bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a " + shape + " tensor takes " + (n * dtype.bytes >> 20) + " MiB in "
                    + dtype.name().toLowerCase(java.util.Locale.ROOT) + "; the torch backend loads at most 2 GiB per tensor");
        }
    }

    /** The NDArray keeps its direct buffer alive (DJL holds a reference), so nothing here must outlive it. */
    private NDArray create(MemorySegment f32, Shape shape) {
        checkSize(shape);
        long n = shape.size();
        ByteBuffer buf = ByteBuffer.allocateDirect((int) (n * dtype.bytes)).order(ByteOrder.nativeOrder());
        MemorySegment dst = MemorySegment.ofBuffer(buf);
        if (dtype == TorchDtype.FP32) {
            MemorySegment.copy(f32, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, n);
        } else {
            for (long i = 0; i < n; i++) {
                dst.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i,
                        Float.floatToFloat16(f32.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)));
            }
        }
        return manager.create(buf, shape, dtype.dataType);
    }

    private void noteSource(DType source) {
        if (source == DType.BF16 && !widenedBf16) {
            widenedBf16 = true;
            LOG.info(() -> "torch: " + checkpoint.path().getFileName() + " stores bf16 weights; widened to "
                    + (dtype == TorchDtype.FP32 ? "fp32" : "f16") + " at load (DJL cannot hold bf16 arrays)");
        }
    }
}
