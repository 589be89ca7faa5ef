package io.basalt.backend.neuron;

import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormatException;
import io.basalt.model.TensorInfo;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.MatrixRef;
import io.basalt.model.layout.VectorRef;
import io.basalt.model.quant.Dequantize;

/**
 * The weight kinds of docs/NEURON.md §3 mapped to {@link LlamaLayout}'s tensors, and one rank's part of each read as
 * fp32 (any stored float or block-quantized type, through {@link Dequantize}).
 */
final class LlamaWeights {
    private LlamaWeights() {}

    /** The matrix or vector behind a weight kind (a {@link MatrixRef} or a {@link VectorRef}). */
    static Object ref(LlamaLayout layout, String kind) {
        switch (kind) {
            case "tok_embeddings": return layout.embedding();
            case "lm_head": return layout.classifier() != null ? layout.classifier() : layout.embedding();
            case "final_norm": return layout.finalNorm();
            default: break;
        }
        String[] p = kind.split("\\.");
        if (p.length != 3 || !p[0].equals("layer")) throw new IllegalArgumentException("not a weight kind: " + kind);
        LlamaLayout.Layer l = layout.layers().get(Integer.parseInt(p[1]));
        return switch (p[2]) {
            case "attn_norm" -> l.attnNorm();
            case "ffn_norm" -> l.ffnNorm();
            case "wq" -> l.wq();
            case "wk" -> l.wk();
            case "wv" -> l.wv();
            case "wo" -> l.wo();
            case "w_gate" -> l.gate();
            case "w_up" -> l.up();
            case "w_down" -> l.down();
            default -> throw new IllegalArgumentException("not a weight kind: " + kind);
        };
    }

    /** The checkpoint tensor name of a weight kind. */
    static String key(LlamaLayout layout, String kind) {
        return switch (ref(layout, kind)) {
            case MatrixRef m -> m.name();
            case VectorRef v -> v.name();
            default -> throw new IllegalStateException(kind);
        };
    }

    /**
     * Rank {@code rank}'s part of the weight, row-major fp32: the whole tensor when {@code axis} is null, else rows
     * (axis 0) or columns (axis 1) [rank·n/tp, (rank+1)·n/tp) of the [rows = out, cols = in] matrix.
     */
    static float[] shard(Checkpoint checkpoint, LlamaLayout layout, String kind, Integer axis, int rank, int tp) {
        Object ref = ref(layout, kind);
        if (ref instanceof VectorRef v) {
            if (axis != null) throw new IllegalArgumentException(kind + " is a vector and cannot be sharded");
            return v.read(checkpoint);
        }
        MatrixRef m = (MatrixRef) ref;
        if (m.conv1d()) throw new IllegalArgumentException(kind + ": a Conv1D weight is not a Llama weight");
        TensorInfo t = checkpoint.tensor(m.name(), m.storedShape());
        int rows = Math.toIntExact(m.rows());
        int cols = Math.toIntExact(m.cols());
        int r0 = 0, nr = rows, c0 = 0, nc = cols;
        if (axis != null && axis == 0) { nr = rows / tp; r0 = rank * nr; }
        if (axis != null && axis == 1) { nc = cols / tp; c0 = rank * nc; }
        float[] out = new float[Math.multiplyExact(nr, nc)];
        float[] row = new float[cols];
        for (int r = 0; r < nr; r++) {
            long offset = t.dtype().byteSize((m.rowStart() + r0 + r) * (long) cols);
            if (offset < 0) throw new ModelFormatException(checkpoint.path(), "tensor '" + m.name() + "': rows of " + cols + " are not whole " + t.dtype() + " blocks");
            Dequantize.row(t.data(), t.dtype(), offset, row, 0, cols);
            System.arraycopy(row, c0, out, r * nc, nc);
        }
        return out;
    }
}
