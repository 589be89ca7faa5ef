package io.basalt.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.basalt.backend.FlatBatch;
import io.basalt.model.layout.Rope;
import java.util.HashMap;
import java.util.Map;

/**
 * One engine step's index arrays on the device, made from its {@link FlatBatch} (the rows, positions, slots and
 * block tables every dynamic runner shares): token ids, positions and KV slots per row, and per sequence the slots
 * and mask of the keys it attends to. Every array lives in the step's manager, closed after the step.
 */
final class Step {
    final NDManager manager;
    final TorchDtype dtype;
    final FlatBatch batch;
    final int numRows;
    final NDArray tokenIds;
    final NDArray positionIds;
    final NDArray slots;
    private final Map<Integer, Attend[]> attends = new HashMap<>();
    private final Map<Rope, NDArray[]> ropeTables = new HashMap<>();

    /** The keys sequence s attends to from its rows: slots [L] and an additive mask [rows, L] (null: none masked). */
    record Attend(NDArray slots, int numKeys, NDArray mask) { }

    Step(NDManager manager, TorchDtype dtype, FlatBatch batch) {
        this.manager = manager;
        this.dtype = dtype;
        this.batch = batch;
        this.numRows = batch.numRows();
        this.tokenIds = manager.create(toLongs(batch.tokenIds()));
        this.positionIds = manager.create(toLongs(batch.positions()));
        this.slots = manager.create(toLongs(batch.slots()));
    }

    /** Index arrays are int64, as libtorch's indexing takes them. */
    private static long[] toLongs(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }

    /** First position a query at pos sees (sliding window of {@code window} positions, 0: none). */
    static int firstAttended(int pos, int window) { return window > 0 ? Math.max(0, pos - window + 1) : 0; }

    /** Per sequence, the keys its rows attend to under this window (causal; built once per step and window). */
    Attend[] attend(int window) {
        return attends.computeIfAbsent(window, w -> {
            Attend[] out = new Attend[batch.numSequences()];
            for (int s = 0; s < out.length; s++) {
                int start = batch.startPosition(s);
                int end = batch.endPosition(s);
                int n = batch.numTokens(s);
                int first = firstAttended(start, w);
                int numKeys = end - first;
                long[] keySlots = new long[numKeys];
                for (int p = first; p < end; p++) keySlots[p - first] = batch.slot(s, p);
                float[] mask = new float[n * numKeys];
                boolean masked = false;
                for (int i = 0; i < n; i++) {
                    int p = start + i;
                    for (int k = 0; k < numKeys; k++) {
                        int q = first + k;
                        if (q > p || q < firstAttended(p, w)) {
                            mask[i * numKeys + k] = Float.NEGATIVE_INFINITY;
                            masked = true;
                        }
                    }
                }
                out[s] = new Attend(manager.create(keySlots), numKeys, masked ? typed(manager.create(mask, new Shape(n, numKeys))) : null);
            }
            return out;
        });
    }

    /**
     * cos and sin [rows, 1, rotaryDims/2] of each row's position, times YaRN's concentration. The
     * angle is the float32 product position · inv_freq, as the reference implementations compute it.
     */
    NDArray[] rope(Rope rope) {
        return ropeTables.computeIfAbsent(rope, ro -> {
            float[] inv = ro.invFreq();
            float c = ro.concentration();
            int half = inv.length;
            float[] cos = new float[numRows * half];
            float[] sin = new float[numRows * half];
            for (int r = 0; r < numRows; r++) {
                int position = batch.position(r);
                for (int i = 0; i < half; i++) {
                    float angle = position * inv[i];
                    cos[r * half + i] = (float) Math.cos(angle) * c;
                    sin[r * half + i] = (float) Math.sin(angle) * c;
                }
            }
            Shape shape = new Shape(numRows, 1, half);
            return new NDArray[] {typed(manager.create(cos, shape)), typed(manager.create(sin, shape))};
        });
    }

    /** An fp32 array built here in the model's dtype. */
    NDArray typed(NDArray f32) { return dtype == TorchDtype.FP32 ? f32 : f32.toType(dtype.dataType, false); }
}
