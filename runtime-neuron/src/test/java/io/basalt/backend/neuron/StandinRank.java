package io.basalt.backend.neuron;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test helper: one loaded stand-in graph on one rank, with every tensor allocated and put in its set. Tensors whose
 * kind is in {@code shared} (weights, KV states) are reused, so prefill and decode graphs of a rank share them; the
 * rest (user inputs, logits) belong to this graph.
 */
final class StandinRank {
    final Nrt nrt;
    final Nrt.Model model;
    final Nrt.TensorSet inputs;
    final Nrt.TensorSet outputs;
    final Map<String, Nrt.Tensor> own = new HashMap<>();

    StandinRank(Nrt nrt, Nrt.Model model, List<StandinNeff.Spec> specs, int vnc, Map<String, Nrt.Tensor> shared) {
        this.nrt = nrt;
        this.model = model;
        this.inputs = nrt.newTensorSet();
        this.outputs = nrt.newTensorSet();
        for (StandinNeff.Spec s : specs) {
            Nrt.Tensor t = shared.get(s.kind());
            if (t == null && s.input() && (s.kind().startsWith("layer.") || s.kind().equals("tok_embeddings")
                    || s.kind().equals("final_norm") || s.kind().equals("lm_head"))) {
                t = nrt.allocate(vnc, s.bytes(), s.kind());
                shared.put(s.kind(), t);
            }
            if (t == null) {
                t = nrt.allocate(vnc, s.bytes(), s.name());
                own.put(s.kind(), t);
            }
            nrt.add(s.input() ? inputs : outputs, s.name(), t);
        }
    }

    void writeInts(String kind, int... values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        nrt.write(own.get(kind), 0, b);
    }

    void writeFloats(String kind, float... values) {
        nrt.write(own.get(kind), 0, floats(values));
    }

    float[] readFloats(String kind) {
        Nrt.Tensor t = own.get(kind);
        ByteBuffer b = ByteBuffer.allocateDirect((int) t.size()).order(ByteOrder.LITTLE_ENDIAN);
        nrt.read(t, 0, b);
        float[] out = new float[(int) t.size() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    int[] readInts(String kind) {
        Nrt.Tensor t = own.get(kind);
        ByteBuffer b = ByteBuffer.allocateDirect((int) t.size()).order(ByteOrder.LITTLE_ENDIAN);
        nrt.read(t, 0, b);
        int[] out = new int[(int) t.size() / 4];
        b.asIntBuffer().get(out);
        return out;
    }

    void execute() {
        nrt.execute(model, inputs, outputs);
    }

    static ByteBuffer floats(float... values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b;
    }
}
