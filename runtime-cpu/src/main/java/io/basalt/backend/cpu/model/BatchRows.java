package io.basalt.backend.cpu.model;

import java.util.List;

/**
 * A batch of chunks flattened into rows (one per token) for the matrix products, remembering each
 * row's chunk and position for attention, and which rows need logits.
 */
public record BatchRows(List<SequenceChunk> chunks, int[] tokens, int[] chunkOf, int[] positionOf) {

    public static BatchRows of(List<SequenceChunk> chunks, int maxPositions) {
        if (chunks.isEmpty()) throw new IllegalArgumentException("forward needs at least one sequence");
        int n = 0;
        for (SequenceChunk c : chunks) {
            n += c.tokens().length;
            if (c.startPosition() + c.tokens().length > maxPositions) {
                throw new IllegalArgumentException("sequence of " + (c.startPosition() + c.tokens().length)
                        + " positions exceeds the model's context length of " + maxPositions);
            }
        }
        int[] tokens = new int[n];
        int[] chunkOf = new int[n];
        int[] positionOf = new int[n];
        int r = 0;
        for (int c = 0; c < chunks.size(); c++) {
            SequenceChunk chunk = chunks.get(c);
            for (int i = 0; i < chunk.tokens().length; i++, r++) {
                tokens[r] = chunk.tokens()[i];
                chunkOf[r] = c;
                positionOf[r] = chunk.startPosition() + i;
            }
        }
        return new BatchRows(List.copyOf(chunks), tokens, chunkOf, positionOf);
    }

    public int size() { return tokens.length; }

    public KvView kv(int row) { return chunks.get(chunkOf[row]).kv(); }

    /** Row index of chunk c's first token. */
    public int firstRow(int c) {
        int r = 0;
        for (int i = 0; i < c; i++) r += chunks.get(i).tokens().length;
        return r;
    }

    /** Largest position in the batch + 1 (sizes the attention scratch). */
    public int maxLength() {
        int m = 0;
        for (int p : positionOf) m = Math.max(m, p + 1);
        return m;
    }
}
