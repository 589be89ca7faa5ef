package io.basalt.model.arch;

import io.basalt.backend.cpu.kernels.VectorKernels;
import io.basalt.backend.cpu.kernels.WeightMatrices;
import io.basalt.backend.cpu.kernels.WeightMatrix;
import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Binds checkpoint tensors to kernels, checking each shape against the model configuration. */
public final class Weights {
    private final Checkpoint checkpoint;

    public Weights(Checkpoint checkpoint) { this.checkpoint = checkpoint; }

    public Checkpoint checkpoint() { return checkpoint; }

    public boolean has(String name) { return checkpoint.has(name); }

    /** A [rows, cols] matrix in PyTorch Linear layout (outputs × inputs). */
    public WeightMatrix matrix(String name, long rows, long cols) {
        TensorInfo t = checkpoint.tensor(name, rows, cols);
        return rowMajor(t, t.data(), rows, cols);
    }

    /** Rows [rowStart, rowStart + rows) of a [totalRows, cols] matrix (e.g. q, k, v out of a fused qkv). */
    public WeightMatrix matrixRows(String name, long totalRows, long cols, long rowStart, long rows) {
        TensorInfo t = checkpoint.tensor(name, totalRows, cols);
        long rowBytes = t.dtype().byteSize(cols);
        return rowMajor(t, t.data().asSlice(rowStart * rowBytes, rows * rowBytes), rows, cols);
    }

    /** A Conv1D weight stored [in, out] (GPT-2 Hugging Face layout), used as y = x·W. */
    public WeightMatrix conv1d(String name, long in, long out) {
        TensorInfo t = checkpoint.tensor(name, in, out);
        if (t.dtype() != DType.F32) {
            throw new ModelFormatException(checkpoint.path(), "tensor '" + name + "' is " + t.dtype()
                    + "; Conv1D ([in, out]) weights are read in F32 only");
        }
        return WeightMatrices.columnMajor(t.data(), t.dtype(), Math.toIntExact(in), Math.toIntExact(out));
    }

    private WeightMatrix rowMajor(TensorInfo t, MemorySegment data, long rows, long cols) {
        try {
            return WeightMatrices.rowMajor(data, t.dtype(), Math.toIntExact(rows), Math.toIntExact(cols));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(checkpoint.path(), "tensor '" + t.name() + "': " + e.getMessage(), e);
        }
    }

    /** A small tensor (norm scales, biases, sinks) converted to fp32 on the heap; shape must match. */
    public float[] vector(String name, long... shape) {
        TensorInfo t = checkpoint.tensor(name, shape);
        return toFloats(t, t.data(), Math.toIntExact(t.numElements()));
    }

    /** Elements [start, start + n) of a tensor, flattened, as fp32. */
    public float[] vectorSlice(String name, long[] shape, long start, int n) {
        TensorInfo t = checkpoint.tensor(name, shape);
        long size = t.dtype().byteSize(1);
        return toFloats(t, t.data().asSlice(start * size, n * size), n);
    }

    private float[] toFloats(TensorInfo t, MemorySegment data, int n) {
        float[] out = new float[n];
        ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(data, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, out, 0, n);
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = VectorKernels.bf16ToFloat(data.getAtIndex(i16, i)); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(data.getAtIndex(i16, i)); }
            default -> throw new ModelFormatException(checkpoint.path(), "tensor '" + t.name() + "' is " + t.dtype()
                    + "; expected F32, F16 or BF16");
        }
        return out;
    }
}
