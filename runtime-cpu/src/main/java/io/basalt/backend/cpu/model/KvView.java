package io.basalt.backend.cpu.model;

/**
 * Where one sequence's keys and values live during a forward pass: per layer, a float array in
 * which each position owns kvDim consecutive floats starting at {@link #offset}. A contiguous
 * {@link KvCache} and a paged view over a block pool (block tables) both fit this shape, so the
 * architectures never know which one they write to.
 */
public interface KvView {
    float[] keys(int layer);

    float[] values(int layer);

    /** Index in {@link #keys}/{@link #values} of position {@code position}'s first element. */
    int offset(int position);
}
