package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The device allocations of one owner (weights, KV pool, activations), freed together. Uploads go through a native
 * segment (never a heap array: the driver reads it outside the JVM's reach) and a synchronous copy, so they only
 * happen at load or outside a capture.
 */
final class DeviceMemory implements AutoCloseable {
    private final Cuda cuda;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private long bytes;

    DeviceMemory(Cuda cuda) { this.cuda = cuda; }

    Cuda cuda() { return cuda; }

    /** At least 4 bytes, so an empty tensor still has an address to pass. */
    DeviceBuffer alloc(long size) {
        DeviceBuffer b = cuda.alloc(Math.max(4, size));
        buffers.add(b);
        bytes += b.size();
        return b;
    }

    DeviceBuffer zeros(long size) {
        DeviceBuffer b = alloc(size);
        cuda.memsetZero(b, null);
        return b;
    }

    DeviceBuffer upload(float[] values) {
        DeviceBuffer b = alloc(4L * values.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(4, 4L * values.length), 16);
            MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, values.length);
            cuda.copyToDevice(b, seg, null);
        }
        return b;
    }

    /** {@code bytes} as they are (a native or heap segment) into a new buffer. */
    DeviceBuffer uploadBytes(MemorySegment src) {
        DeviceBuffer b = alloc(src.byteSize());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(4, src.byteSize()), 16);
            MemorySegment.copy(src, 0, seg, 0, src.byteSize());
            cuda.copyToDevice(b, seg, null);
        }
        return b;
    }

    long bytes() { return bytes; }

    @Override
    public void close() {
        RuntimeException first = null;
        for (DeviceBuffer b : buffers) {
            try {
                cuda.free(b);
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        buffers.clear();
        bytes = 0;
        if (first != null) throw first;
    }
}
