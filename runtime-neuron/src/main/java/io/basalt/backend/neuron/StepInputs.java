package io.basalt.backend.neuron;

import io.basalt.spi.SequenceInput;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The user inputs of one execute of a bucket (docs/NEURON.md §3 "Step semantics"): row b carries a sequence's tokens
 * [from, to) at their positions in its slot; rows past the real ones repeat the last real row exactly (same slot,
 * positions and tokens, so their K/V writes are identical and harmless). Padding within a prefill row: id 0, mask 0,
 * position continuing.
 */
final class StepInputs {
    private StepInputs() {}

    /** One row: sequence {@code seq}'s tokens [from, to) (indices into its tokenIds). */
    record Row(SequenceInput seq, int from, int to) { }

    static Map<String, ByteBuffer> build(Manifest.Bucket b, List<Row> rows, int maxBatch) {
        int batch = b.batch();
        int len = b.isPrefill() ? b.length() : 1;
        int k = b.isPrefill() ? b.length() : b.kvLength();
        ByteBuffer ids = ints(batch * len), mask = ints(batch * k), pos = ints(batch * len), seqIds = ints(batch);
        ByteBuffer sampling = ByteBuffer.allocateDirect(batch * 3 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < batch; r++) {
            Row row = rows.get(Math.min(r, rows.size() - 1));
            SequenceInput s = row.seq();
            int slot = s.blockTable()[0];
            if (slot < 0 || slot >= maxBatch) throw new IllegalArgumentException("sequence " + s.seqId() + " has KV slot " + slot + ", outside [0, " + maxBatch + ")");
            int n = row.to() - row.from();
            int start = s.startPosition() + row.from();
            for (int j = 0; j < len; j++) {
                ids.putInt(j < n ? s.tokenIds()[row.from() + j] : 0);
                pos.putInt(start + j);
            }
            if (b.isPrefill()) {
                for (int j = 0; j < k; j++) mask.putInt(j < n ? 1 : 0);
            } else {
                if (start >= k) throw new IllegalArgumentException("position " + start + " does not fit decode kv_length " + k);
                for (int j = 0; j < k; j++) mask.putInt(j <= start ? 1 : 0);
            }
            seqIds.putInt(slot);
            SequenceInput.Sampling p = s.sampling();
            sampling.putFloat(p.topK()).putFloat(p.topP()).putFloat(p.temperature());
        }
        Map<String, ByteBuffer> m = new HashMap<>();
        m.put("input_ids", ids.flip());
        m.put("attention_mask", mask.flip());
        m.put("position_ids", pos.flip());
        m.put("seq_ids", seqIds.flip());
        m.put("sampling_params", sampling.flip());
        return m;
    }

    private static ByteBuffer ints(int n) { return ByteBuffer.allocateDirect(n * 4).order(ByteOrder.LITTLE_ENDIAN); }
}
