package io.basalt.backend.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import io.basalt.model.DType;
import org.junit.jupiter.api.Test;

/** The warm-up swallows failures in production (it is only an optimisation), so its parts run bare here. */
class KernelWarmUpTest {
    @Test
    void everyKernelRunsWithoutThrowing() {
        // One round each: packing on the kernel pool, every tile size of every warmed type, both attention kernels.
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0}) {
            assertDoesNotThrow(() -> KernelWarmUp.matrices(dtype, 1), dtype.name());
        }
        assertDoesNotThrow(() -> KernelWarmUp.attention(1));
    }
}
