package io.basalt.backend.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** DJL's failed GPU probe (logged twice at start) is said at most once, and not at all where there is no NVIDIA driver. */
class CudaProbeLogTest {
    @Test
    void theProbeWarningIsSaidAtMostOnce() {
        TorchDevice.quietCudaProbe();
        Logger probe = Logger.getLogger("ai.djl.util.cuda.CudaUtils");
        List<LogRecord> seen = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { seen.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        // The filter sits on the logger: only records that pass it reach its handlers.
        probe.addHandler(h);
        try {
            String message = "Failed to detect GPU count: CUDA driver version is insufficient for CUDA runtime version (35)";
            probe.log(Level.WARNING, message);
            probe.log(Level.WARNING, message);
        } finally {
            probe.removeHandler(h);
        }
        boolean driver = Files.exists(Path.of("/proc/driver/nvidia/version")) || Files.exists(Path.of("/dev/nvidiactl"));
        assertEquals(driver ? 1 : 0, seen.size(), seen.toString());
    }
}
