package io.basalt.backend.cuda;

import io.basalt.backend.FlatBatch;
import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.HostBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A step's int32 inputs in one pinned host buffer and one device buffer of the same layout, uploaded with one copy:
 * token ids, positions, KV slots, row → sequence, logit rows (each [capacity]), then the block tables
 * [capacity][tableWidth]. The offsets depend only on the capacity, so a captured graph keeps reading the right places.
 */
final class StepInputs implements AutoCloseable {
    private final Cuda cuda;
    private final int capacity;
    private final int tableWidth;
    private final DeviceBuffer device;
    private final HostBuffer host;
    private final MemorySegment staging;
    private final DeviceBuffer ids, positions, slots, rowSeq, logitRows, tables;
    private int usedInts;

    StepInputs(Cuda cuda, int capacity, int tableWidth) {
        this.cuda = cuda;
        this.capacity = capacity;
        this.tableWidth = tableWidth;
        long ints = 5L * capacity + (long) capacity * tableWidth;
        this.device = cuda.alloc(4 * ints);
        HostBuffer h;
        try {
            h = cuda.allocPinned(4 * ints);
        } catch (RuntimeException e) {
            cuda.free(device);
            throw e;
        }
        this.host = h;
        this.staging = host.segment();
        long r = 4L * capacity;
        ids = device.slice(0, r);
        positions = device.slice(r, r);
        slots = device.slice(2 * r, r);
        rowSeq = device.slice(3 * r, r);
        logitRows = device.slice(4 * r, r);
        tables = device.slice(5 * r, r * tableWidth);
    }

    int capacity() { return capacity; }

    int tableWidth() { return tableWidth; }

    DeviceBuffer ids() { return ids; }

    DeviceBuffer positions() { return positions; }

    DeviceBuffer slots() { return slots; }

    DeviceBuffer rowSeq() { return rowSeq; }

    DeviceBuffer logitRows() { return logitRows; }

    DeviceBuffer tables() { return tables; }

    /**
     * Writes the batch, padded to {@code rows} rows (and as many sequences): padded rows are token 0 at position 0 of
     * their own sequence, whose table points at {@code scratchBlock}. {@code logits} are the rows whose logits are
     * gathered, in order.
     */
    void fill(FlatBatch b, int[][] blockTables, int rows, int[] logits, int scratchBlock, int scratchSlot) {
        int n = b.numRows();
        int seqs = Math.max(b.numSequences(), rows - n + b.numSequences());
        if (rows > capacity || seqs > capacity) throw new IllegalStateException("a step of " + rows + " rows exceeds the input capacity " + capacity);
        for (int r = 0; r < rows; r++) {
            boolean real = r < n;
            set(r, real ? b.tokenId(r) : 0);
            set(capacity + r, real ? b.position(r) : 0);
            set(2 * capacity + r, real ? b.slot(r) : scratchSlot);
            set(3 * capacity + r, real ? b.sequence(r) : b.numSequences() + (r - n));
        }
        for (int i = 0; i < logits.length; i++) set(4 * capacity + i, logits[i]);
        int base = 5 * capacity;
        int[] row = new int[tableWidth];
        for (int s = 0; s < seqs; s++) {
            if (s < blockTables.length) {
                int[] t = blockTables[s];
                int k = Math.min(t.length, tableWidth);
                System.arraycopy(t, 0, row, 0, k);
                Arrays.fill(row, k, tableWidth, scratchBlock);
            } else {
                Arrays.fill(row, scratchBlock);
            }
            MemorySegment.copy(row, 0, staging, ValueLayout.JAVA_INT, 4L * (base + (long) s * tableWidth), tableWidth);
        }
        usedInts = base + seqs * tableWidth;
    }

    private void set(long index, int value) { staging.setAtIndex(ValueLayout.JAVA_INT, index, value); }

    /** One copy of what {@link #fill} wrote; the pinned buffer must not change until the stream has passed it. */
    void upload(Stream stream) {
        cuda.copyToDevice(device, staging.asSlice(0, 4L * usedInts), stream);
    }

    @Override
    public void close() {
        try {
            cuda.free(device);
        } finally {
            cuda.free(host);
        }
    }
}
