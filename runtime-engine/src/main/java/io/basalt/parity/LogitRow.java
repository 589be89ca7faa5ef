package io.basalt.parity;

/**
 * The logits of one position: {@code ids == null} for a whole vocabulary row ({@code values[id]}),
 * else the stored top-k, largest first ({@code values[i]} belongs to {@code ids[i]}).
 */
public record LogitRow(int[] ids, float[] values) {
    public boolean full() { return ids == null; }

    /** The greedy choice: the argmax of a full row, the first id of a top-k row (-1 if none). */
    public int argmax() { return full() ? TopIds.argmax(values) : ids.length == 0 ? -1 : ids[0]; }

    /** The ids of the (up to) k largest values, largest first. */
    public int[] top(int k) {
        if (full()) return TopIds.of(values, k);
        return java.util.Arrays.copyOf(ids, Math.min(k, ids.length));
    }
}
