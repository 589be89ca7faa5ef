package io.basalt.backend.cpu.model;

/**
 * Where keys and values live during a forward pass: per layer, one key and one value array in which KV slot s
 * (a row's {@code FlatBatch.slot}: block · blockSize + offset) owns kvDim consecutive floats from s · kvDim. The
 * engine's paged pool and a single sequence's contiguous {@link KvCache} (one block as long as its context, so a
 * slot is the position) both fit this shape, so the architectures never know which one they write to.
 */
public interface KvStore {
    float[] keys(int layer);

    float[] values(int layer);
}
