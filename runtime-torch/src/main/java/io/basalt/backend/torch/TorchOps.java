package io.basalt.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import io.basalt.model.layout.Rope;

/** The transformer math as libtorch operations over all rows of a step. */
final class TorchOps {
    private TorchOps() {}

    /** x·Wᵀ + b, W [out, in] (torch's linear); b may be null. */
    static NDArray linear(NDArray x, NDArray w, NDArray b) { return Linear.linear(x, w, b).singletonOrThrow(); }

    /** x / sqrt(mean(x²) + eps) · w over the last axis. */
    static NDArray rmsNorm(NDArray x, NDArray w, float eps) {
        return x.div(x.square().mean(new int[] {-1}, true).add(eps).sqrt()).mul(w);
    }

    static NDArray layerNorm(NDArray x, NDArray w, NDArray b, float eps) {
        return x.getNDArrayInternal().layerNorm(x, new Shape(w.getShape().get(0)), w, b, eps).singletonOrThrow();
    }

    /** GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    static NDArray geluTanh(NDArray x) {
        NDArray u = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2.0 / Math.PI));
        return x.mul(u.tanh().add(1f)).mul(0.5f);
    }

    /** silu(gate) · up (SwiGLU). */
    static NDArray siluMul(NDArray gate, NDArray up) { return gate.mul(Activation.sigmoid(gate)).mul(up); }

    /**
     * Rotates the first rotaryDims dimensions of each of the heads in x [rows, heads·hd]: pairs
     * (2i, 2i+1) for INTERLEAVED, (i, i + rot/2) for HALF_SPLIT; cos/sin from {@link Step#rope}.
     */
    static NDArray rope(Step step, Rope rope, NDArray x, int heads, int hd) {
        NDArray[] cs = step.rope(rope);
        NDArray cos = cs[0];
        NDArray sin = cs[1];
        int rot = rope.rotaryDims();
        int half = rot / 2;
        NDArray h = x.reshape(step.numRows, heads, hd);
        NDArray rotating = rot == hd ? h : h.get(new NDIndex(":, :, 0:" + rot));
        NDArray rotated;
        if (rope.style() == Rope.Style.HALF_SPLIT) {
            NDArray x0 = rotating.get(new NDIndex(":, :, 0:" + half));
            NDArray x1 = rotating.get(new NDIndex(":, :, " + half + ":" + rot));
            rotated = x0.mul(cos).sub(x1.mul(sin)).concat(x1.mul(cos).add(x0.mul(sin)), 2);
        } else {
            NDArray pairs = rotating.reshape(step.numRows, heads, half, 2);
            NDArray x0 = pairs.get(new NDIndex(":, :, :, 0"));
            NDArray x1 = pairs.get(new NDIndex(":, :, :, 1"));
            rotated = x0.mul(cos).sub(x1.mul(sin)).stack(x1.mul(cos).add(x0.mul(sin)), 3).reshape(step.numRows, heads, rot);
        }
        if (rot != hd) rotated = rotated.concat(h.get(new NDIndex(":, :, " + rot + ":")), 2);
        return rotated.reshape(step.numRows, (long) heads * hd);
    }

    /**
     * Causal attention of every row over its own sequence's keys and values in the pool (already
     * written for this step's rows), per sequence: grouped-query heads, an optional sliding window
     * and optional per-head sink logits that join the softmax's denominator without a value.
     *
     * @param q     [rows, heads·hd], rotated
     * @param sinks [heads] or null
     * @return [rows, heads·hd]
     */
    static NDArray attention(Step step, TorchKvCache kv, int layer, NDArray q, int heads, int kvHeads, int hd, float scale,
                             int window, NDArray sinks) {
        int group = heads / kvHeads;
        Step.Attend[] attend = step.attend(window);
        NDList outs = new NDList(attend.length);
        for (int s = 0; s < attend.length; s++) {
            Step.Attend a = attend[s];
            int first = step.batch.firstRow(s);
            int n = step.batch.numTokens(s);
            int len = a.numKeys();
            NDArray qs = q.get(new NDIndex(first + ":" + (first + n)))
                    .reshape(n, kvHeads, group, hd).transpose(1, 2, 0, 3).reshape(kvHeads, (long) group * n, hd);
            NDArray keys = kv.keys(layer, a.slots()).reshape(len, kvHeads, hd).transpose(1, 2, 0);
            NDArray values = kv.values(layer, a.slots()).reshape(len, kvHeads, hd).transpose(1, 0, 2);
            NDArray scores = qs.batchMatMul(keys).mul(scale).reshape(kvHeads, group, n, len);
            if (a.mask() != null) scores = scores.add(a.mask());
            NDArray probs;
            if (sinks != null) {
                NDArray sink = sinks.reshape(kvHeads, group, 1, 1).broadcast(new Shape(kvHeads, group, n, 1));
                probs = scores.concat(sink, 3).softmax(3).get(new NDIndex(":, :, :, 0:" + len));
            } else {
                probs = scores.softmax(3);
            }
            outs.add(probs.reshape(kvHeads, (long) group * n, len).batchMatMul(values)
                    .reshape(kvHeads, group, n, hd).transpose(2, 0, 1, 3).reshape(n, (long) heads * hd));
        }
        return outs.size() == 1 ? outs.get(0) : NDArrays.concat(outs, 0);
    }
}
