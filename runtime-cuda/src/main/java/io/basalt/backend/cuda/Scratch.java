package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;

/**
 * A forward's activation buffers for up to {@link #rows} rows, allocated together and freed together; a step that
 * needs more rows gets a new Scratch (and the runner drops graphs that captured the old addresses).
 */
final class Scratch implements AutoCloseable {
    private final DeviceMemory memory;
    private final int rows;

    Scratch(Cuda cuda, int rows) {
        this.memory = new DeviceMemory(cuda);
        this.rows = rows;
    }

    int rows() { return rows; }

    /** [rows][perRow] fp32 (or int32: the same 4 bytes). */
    DeviceBuffer rowsOf(long perRow) { return memory.alloc(4L * rows * perRow); }

    @Override
    public void close() { memory.close(); }
}
