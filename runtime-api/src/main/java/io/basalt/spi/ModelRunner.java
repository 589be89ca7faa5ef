package io.basalt.spi;

/**
 * A model loaded on a backend. {@link #execute} runs one step; the engine calls it from its single
 * step thread, never concurrently.
 */
public interface ModelRunner extends AutoCloseable {
    ModelSpec spec();

    Capabilities capabilities();

    StepOutput execute(Batch batch);

    @Override
    void close();
}
