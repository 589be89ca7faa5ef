package io.basalt.backend.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.basalt.model.layout.Rope;
import io.basalt.spi.SequenceInput;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One engine step flattened into rows (one per new token, sequences in batch order) with the index
 * arrays the forward pass needs: token ids, positions, KV slots, and per sequence the slots and
 * mask of the keys it attends to. Every array lives in the step's manager, closed after the step.
 */
final class Step {
    /** One sequence's rows [firstRow, firstRow + numTokens) at positions [start, start + numTokens). */
    record Seq(int firstRow, int numTokens, int start, int[] blockTable) {
        int end() { return start + numTokens; }
    }

    final NDManager manager;
    final TorchDtype dtype;
    final List<Seq> seqs;
    final int numRows;
    final int[] positions;
    final NDArray tokenIds;
    final NDArray positionIds;
    final NDArray slots;
    private final int blockSize;
    private final Map<Integer, Attend[]> attends = new HashMap<>();
    private final Map<Rope, NDArray[]> ropeTables = new HashMap<>();

    /** The keys sequence s attends to from its rows: slots [L] and an additive mask [rows, L] (null: none masked). */
    record Attend(NDArray slots, int numKeys, NDArray mask) { }

    Step(NDManager manager, TorchDtype dtype, List<SequenceInput> inputs, int blockSize, int vocabSize, int maxPositions) {
        this.manager = manager;
        this.dtype = dtype;
        this.blockSize = blockSize;
        int n = inputs.stream().mapToInt(SequenceInput::numTokens).sum();
        long[] tokens = new long[n];
        long[] pos = new long[n];
        long[] slot = new long[n];
        positions = new int[n];
        Seq[] list = new Seq[inputs.size()];
        int r = 0;
        for (int s = 0; s < inputs.size(); s++) {
            SequenceInput in = inputs.get(s);
            Seq seq = new Seq(r, in.numTokens(), in.startPosition(), in.blockTable());
            if (seq.end() > maxPositions) {
                throw new IllegalArgumentException("sequence of " + seq.end() + " positions exceeds the model's context length of "
                        + maxPositions);
            }
            if ((seq.end() + blockSize - 1) / blockSize > in.blockTable().length) {
                throw new IllegalArgumentException("block table of sequence " + in.seqId() + " has " + in.blockTable().length
                        + " blocks for " + seq.end() + " positions");
            }
            list[s] = seq;
            for (int i = 0; i < in.numTokens(); i++, r++) {
                int t = in.tokenIds()[i];
                if (t < 0 || t >= vocabSize) {
                    throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + vocabSize + ")");
                }
                tokens[r] = t;
                positions[r] = in.startPosition() + i;
                pos[r] = positions[r];
                slot[r] = slotOf(in.blockTable(), positions[r]);
            }
        }
        this.seqs = List.of(list);
        this.numRows = n;
        this.tokenIds = manager.create(tokens);
        this.positionIds = manager.create(pos);
        this.slots = manager.create(slot);
    }

    private long slotOf(int[] blockTable, int position) {
        return (long) blockTable[position / blockSize] * blockSize + position % blockSize;
    }

    /** First position a query at pos sees (sliding window of {@code window} positions, 0: none). */
    static int firstAttended(int pos, int window) { return window > 0 ? Math.max(0, pos - window + 1) : 0; }

    /** Per sequence, the keys its rows attend to under this window (causal; built once per step and window). */
    Attend[] attend(int window) {
        return attends.computeIfAbsent(window, w -> {
            Attend[] out = new Attend[seqs.size()];
            for (int s = 0; s < out.length; s++) {
                Seq seq = seqs.get(s);
                int first = firstAttended(seq.start(), w);
                int numKeys = seq.end() - first;
                long[] keySlots = new long[numKeys];
                for (int p = first; p < seq.end(); p++) keySlots[p - first] = slotOf(seq.blockTable(), p);
                float[] mask = new float[seq.numTokens() * numKeys];
                boolean masked = false;
                for (int i = 0; i < seq.numTokens(); i++) {
                    int p = seq.start() + i;
                    for (int k = 0; k < numKeys; k++) {
                        int q = first + k;
                        if (q > p || q < firstAttended(p, w)) {
                            mask[i * numKeys + k] = Float.NEGATIVE_INFINITY;
                            masked = true;
                        }
                    }
                }
                out[s] = new Attend(manager.create(keySlots), numKeys,
                        masked ? typed(manager.create(mask, new Shape(seq.numTokens(), numKeys))) : null);
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
                for (int i = 0; i < half; i++) {
                    float angle = positions[r] * inv[i];
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
