package io.basalt.backend;

import io.basalt.spi.Batch;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import java.util.Arrays;
import java.util.List;

/**
 * One step's tokens flattened into rows, built once from a {@link Batch} for every dynamic runner (nano-vllm's
 * prepare_prefill / prepare_decode): row r is one new token, sequences in batch order, each sequence's rows
 * consecutive. Per row: the token id, its position, its sequence and its KV slot (block · blockSize + offset, where
 * its key and value go in a paged pool); which rows need logits; per sequence: its rows, start position and block
 * table (the slots of the keys it attends to). Checked once here: positions within the model's context, block tables
 * that cover them, token ids inside the vocabulary. Immutable; the array accessors return copies, the indexed ones
 * are for loops.
 */
public final class FlatBatch {
    private final int blockSize;
    // per row
    private final int[] tokenIds;
    private final int[] positions;
    private final int[] sequenceOfRow;
    private final int[] slots;
    private final int[] logitRows;
    // per sequence
    private final long[] seqIds;
    private final int[] firstRow;
    private final int[] startPosition;
    private final int[][] blockTables;

    private FlatBatch(int blockSize, int[] tokenIds, int[] positions, int[] sequenceOfRow, int[] slots, int[] logitRows,
                      long[] seqIds, int[] firstRow, int[] startPosition, int[][] blockTables) {
        this.blockSize = blockSize;
        this.tokenIds = tokenIds;
        this.positions = positions;
        this.sequenceOfRow = sequenceOfRow;
        this.slots = slots;
        this.logitRows = logitRows;
        this.seqIds = seqIds;
        this.firstRow = firstRow;
        this.startPosition = startPosition;
        this.blockTables = blockTables;
    }

    /**
     * The batch's sequences as rows over a paged pool of {@code blockSize}-position blocks; the last row of each
     * sequence that asked for logits needs them.
     */
    public static FlatBatch of(Batch batch, int blockSize, ModelSpec model) {
        List<SequenceInput> in = batch.sequences();
        long[] ids = new long[in.size()];
        int[][] tokens = new int[in.size()][];
        int[] starts = new int[in.size()];
        int[][] tables = new int[in.size()][];
        boolean[] logits = new boolean[in.size()];
        for (int s = 0; s < in.size(); s++) {
            SequenceInput x = in.get(s);
            ids[s] = x.seqId();
            tokens[s] = x.tokenIds();
            starts[s] = x.startPosition();
            tables[s] = x.blockTable();
            logits[s] = x.needLogits();
        }
        return build(blockSize, model, ids, tokens, starts, tables, logits);
    }

    /**
     * One sequence (id 0): {@code tokenIds} at positions from {@code startPosition}, its KV at the blocks of
     * {@code blockTable}; its last row needs logits.
     */
    public static FlatBatch ofSequence(int[] tokenIds, int startPosition, int[] blockTable, int blockSize, ModelSpec model) {
        return build(blockSize, model, new long[] {0}, new int[][] {tokenIds}, new int[] {startPosition}, new int[][] {blockTable},
                new boolean[] {true});
    }

    private static FlatBatch build(int blockSize, ModelSpec model, long[] ids, int[][] tokens, int[] starts, int[][] tables,
                                   boolean[] logits) {
        if (blockSize <= 0) throw new IllegalArgumentException("blockSize must be positive, got " + blockSize);
        int n = 0;
        int numLogits = 0;
        for (int s = 0; s < tokens.length; s++) {
            if (tokens[s].length == 0) throw new IllegalArgumentException("sequence " + ids[s] + " has no tokens");
            if (starts[s] < 0) throw new IllegalArgumentException("sequence " + ids[s] + " starts at negative position " + starts[s]);
            int end = Math.addExact(starts[s], tokens[s].length);
            if (end > model.maxPositions()) {
                throw new IllegalArgumentException("sequence of " + end + " positions exceeds the model's context length of "
                        + model.maxPositions());
            }
            if ((end + (long) blockSize - 1) / blockSize > tables[s].length) {
                throw new IllegalArgumentException("block table of sequence " + ids[s] + " has " + tables[s].length
                        + " blocks for " + end + " positions");
            }
            for (int t : tokens[s]) {
                if (t < 0 || t >= model.vocabSize()) {
                    throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + model.vocabSize() + ")");
                }
            }
            n = Math.addExact(n, tokens[s].length);
            if (logits[s]) numLogits++;
        }
        int[] tokenIds = new int[n];
        int[] positions = new int[n];
        int[] sequenceOfRow = new int[n];
        int[] slots = new int[n];
        int[] logitRows = new int[numLogits];
        int[] firstRow = new int[tokens.length];
        int[][] blockTables = new int[tokens.length][];
        int r = 0;
        int k = 0;
        for (int s = 0; s < tokens.length; s++) {
            firstRow[s] = r;
            blockTables[s] = tables[s].clone();
            for (int i = 0; i < tokens[s].length; i++, r++) {
                tokenIds[r] = tokens[s][i];
                positions[r] = starts[s] + i;
                sequenceOfRow[r] = s;
                slots[r] = slot(blockTables[s], blockSize, positions[r]);
            }
            if (logits[s]) logitRows[k++] = r - 1;
        }
        return new FlatBatch(blockSize, tokenIds, positions, sequenceOfRow, slots, logitRows, ids.clone(), firstRow,
                starts.clone(), blockTables);
    }

    /** Exact: a pool too large for int slots fails here instead of wrapping around. */
    private static int slot(int[] blockTable, int blockSize, int position) {
        return Math.addExact(Math.multiplyExact(blockTable[position / blockSize], blockSize), position % blockSize);
    }

    /**
     * This batch with exactly {@code rows} (ascending, each once) needing logits: the CPU's single-sequence path asks
     * for every row's, or for none.
     */
    public FlatBatch withLogitRows(int[] rows) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= numRows() || (i > 0 && rows[i] <= rows[i - 1])) {
                throw new IllegalArgumentException("logit rows must be ascending rows of the batch, got " + Arrays.toString(rows));
            }
        }
        return new FlatBatch(blockSize, tokenIds, positions, sequenceOfRow, slots, rows.clone(), seqIds, firstRow,
                startPosition, blockTables);
    }

    public int blockSize() { return blockSize; }

    // ---- rows

    public int numRows() { return tokenIds.length; }

    public int tokenId(int row) { return tokenIds[row]; }

    public int position(int row) { return positions[row]; }

    /** The index (in batch order) of the sequence row belongs to. */
    public int sequence(int row) { return sequenceOfRow[row]; }

    /** Where row's key and value go in the pool: block · blockSize + offset. */
    public int slot(int row) { return slots[row]; }

    public int[] tokenIds() { return tokenIds.clone(); }

    public int[] positions() { return positions.clone(); }

    public int[] slots() { return slots.clone(); }

    /** The rows whose logits the step returns, ascending. */
    public int[] logitRows() { return logitRows.clone(); }

    /** Largest position in the batch + 1 (0 for an empty batch). */
    public int maxLength() {
        int m = 0;
        for (int s = 0; s < numSequences(); s++) m = Math.max(m, endPosition(s));
        return m;
    }

    // ---- sequences

    public int numSequences() { return firstRow.length; }

    /** The engine's id of sequence s. */
    public long seqId(int s) { return seqIds[s]; }

    /** Sequence s's rows are [firstRow(s), firstRow(s) + numTokens(s)). */
    public int firstRow(int s) { return firstRow[s]; }

    public int numTokens(int s) { return (s + 1 < firstRow.length ? firstRow[s + 1] : tokenIds.length) - firstRow[s]; }

    /** The position of sequence s's first new token. */
    public int startPosition(int s) { return startPosition[s]; }

    /** One past the position of sequence s's last new token: the keys its last row attends to end here. */
    public int endPosition(int s) { return startPosition[s] + numTokens(s); }

    /** The pool slot of sequence s's position {@code position} (any position before {@link #endPosition}). */
    public int slot(int s, int position) { return slot(blockTables[s], blockSize, position); }
}
