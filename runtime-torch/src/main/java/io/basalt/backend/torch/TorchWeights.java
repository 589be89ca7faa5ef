package io.basalt.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.basalt.backend.cpu.kernels.Mxfp4Experts;
import io.basalt.backend.cpu.kernels.WeightConversion;
import io.basalt.backend.cpu.kernels.WeightMatrices;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.GptOssLayout;
import io.basalt.model.layout.MatrixRef;
import io.basalt.model.layout.VectorRef;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.logging.Logger;

/**
 * Copies checkpoint tensors into NDArrays of the backend's dtype: float matrices converted (bf16
 * widened, never a BF16 array), GGUF Q8_0/Q4_0 and MXFP4 dequantized, GPT-2's Conv1D transposed to
 * [out, in]. Everything is copied, so the checkpoint may close once the model is built.
 */
final class TorchWeights implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("basalt.torch");

    private final Checkpoint checkpoint;
    private final NDManager manager;
    private final TorchDtype dtype;
    private final Arena scratch = Arena.ofShared(); // converted copies, freed once the NDArrays hold the data
    private boolean widenedBf16;

    TorchWeights(Checkpoint checkpoint, NDManager manager, TorchDtype dtype) {
        this.checkpoint = checkpoint;
        this.manager = manager;
        this.dtype = dtype;
    }

    Checkpoint checkpoint() { return checkpoint; }

    /** W [rows, cols] (outputs × inputs), the layout torch's linear takes. */
    NDArray matrix(MatrixRef ref) {
        TensorInfo t = checkpoint.tensor(ref.name(), ref.storedShape());
        int rows = Math.toIntExact(ref.rows());
        int cols = Math.toIntExact(ref.cols());
        noteSource(t.dtype());
        try {
            MemorySegment f32;
            if (ref.conv1d()) {
                f32 = WeightConversion.transpose(t.data(), t.dtype(), cols, rows, DType.F32, scratch).data();
            } else {
                long rowBytes = t.dtype().byteSize(ref.cols());
                MemorySegment data = t.data().asSlice(ref.rowStart() * rowBytes, ref.rows() * rowBytes);
                f32 = t.dtype().isQuantized() ? dequantize(data, t.dtype(), rows, cols)
                        : WeightConversion.convert(data, t.dtype(), rows, cols, DType.F32, scratch).data();
            }
            return create(f32, new Shape(rows, cols));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(checkpoint.path(), "tensor '" + ref.name() + "': " + e.getMessage(), e);
        }
    }

    /** Block-quantized rows (Q8_0, Q4_0) decoded through the row reader that defines their layout. */
    private MemorySegment dequantize(MemorySegment data, DType type, int rows, int cols) {
        WeightMatrix m = WeightMatrices.rowMajor(data, type, rows, cols, scratch);
        MemorySegment out = scratch.allocate(4L * rows * cols, 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            m.row(r, row);
            MemorySegment.copy(row, 0, out, ValueLayout.JAVA_FLOAT, 4L * r * cols, cols);
        }
        return out;
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
    NDArray expert(GptOssLayout.Experts x, Mxfp4Experts experts, int e, boolean deinterleave) {
        int rows = Math.toIntExact(x.rows());
        int cols = Math.toIntExact(x.cols());
        float[] data = new float[rows * cols];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            experts.row(e, r, row);
            int to = deinterleave ? (r % 2 == 0 ? r / 2 : rows / 2 + r / 2) : r;
            System.arraycopy(row, 0, data, to * cols, cols);
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

    /** The NDArray keeps its direct buffer alive (DJL holds a reference), so nothing here must outlive it. */
    private NDArray create(MemorySegment f32, Shape shape) {
        long n = shape.size();
        if (n * dtype.bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a " + shape + " tensor takes " + (n * dtype.bytes >> 20) + " MiB in "
                    + dtype.name().toLowerCase(java.util.Locale.ROOT) + "; the torch backend loads at most 2 GiB per tensor");
        }
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

    @Override
    public void close() { scratch.close(); }
}
