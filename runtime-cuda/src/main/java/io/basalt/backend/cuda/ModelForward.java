package io.basalt.backend.cuda;

import io.basalt.backend.cuda.Cuda.DeviceBuffer;
import io.basalt.backend.cuda.Cuda.Stream;
import io.basalt.model.layout.ModelInfo;

/**
 * One architecture's forward pass as kernel launches on a stream: only launches (no allocation, no synchronous copy),
 * so the same call is what a decode graph captures. Inputs come from {@link StepInputs}; the output is the logits of
 * the gathered rows.
 */
interface ModelForward extends AutoCloseable {
    /** Told after each block's launches; x holds the block's output rows (the residual stream). */
    interface LayerObserver {
        LayerObserver NONE = layer -> { };

        void afterLayer(int layer);
    }

    ModelInfo info();

    /**
     * Activation scratch for steps of up to {@code rows} rows. True when it had to be reallocated (addresses change:
     * captured graphs are stale).
     */
    boolean reserve(int rows);

    /** Enqueues the forward of {@code rows} rows and the head of {@code logitRows} gathered rows (StepInputs.logitRows). */
    void enqueue(Stream s, StepInputs in, int rows, int logitRows, LayerObserver observer);

    /** [logitRows][vocab] fp32, valid once the stream has passed {@link #enqueue}. */
    DeviceBuffer logits();

    /** [rows][hidden] fp32: the residual stream. */
    DeviceBuffer residual();

    @Override
    void close();
}
