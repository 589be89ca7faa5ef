package io.basalt.backend.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KernelSettingsTest {

    @Test
    void wideVectorsOnlyWhereTheMachinePrefersThemAndNotAskedNarrow() {
        assertTrue(KernelSettings.wideVectors(512, null));
        assertTrue(KernelSettings.wideVectors(512, "512"));
        assertFalse(KernelSettings.wideVectors(512, "256"));
        assertFalse(KernelSettings.wideVectors(256, null));
        assertFalse(KernelSettings.wideVectors(256, "512"), "512-bit code must never be forced where it is not intrinsified");
    }

    @Test
    void threadsFromTheSettingElseOnePerCore() {
        assertEquals(3, KernelSettings.threads("3", 16));
        assertEquals(16, KernelSettings.threads("0x10", 2)); // Integer.decode, as Integer.getInteger reads it
        assertEquals(2, KernelSettings.threads(null, 2));
        assertEquals(2, KernelSettings.threads("many", 2));
        assertEquals(1, KernelSettings.threads("0", 2));
        assertEquals(1, KernelSettings.threads(null, 0));
    }

    @Test
    void theRunningKernelsFollowTheSettings() {
        assertEquals(KernelSettings.wideVectors(), PackedKernels512.ENABLED);
        assertEquals(PackedKernels512.ENABLED ? 512 : 256, PackedMatrix.vectorBits());
        assertEquals(KernelSettings.threads(), Parallel.threads());
    }
}
