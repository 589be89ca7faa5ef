package io.basalt.backend.cuda;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The one platform thread that owns a device's context (docs/CUDA.md §3: the current context is per OS thread, so
 * every Cuda call of a runner runs here; a virtual thread could move between carriers). Callers wait for the result;
 * the task's own exception is rethrown as it was.
 */
final class DeviceThread implements AutoCloseable {
    private final ExecutorService executor;

    DeviceThread(int device) {
        executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = Thread.ofPlatform().name("basalt-cuda-" + device).daemon(true).unstarted(r);
            return t;
        });
    }

    <T> T call(Callable<T> task) {
        Future<T> f = executor.submit(task);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // the step still runs to its end on the device thread; the caller gives up waiting
            throw new IllegalStateException("interrupted while waiting for the cuda device thread", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error err) throw err;
            throw new IllegalStateException(c.getMessage(), c);
        }
    }

    void run(Runnable task) {
        call(() -> {
            task.run();
            return null;
        });
    }

    @Override
    public void close() { executor.shutdown(); }
}
