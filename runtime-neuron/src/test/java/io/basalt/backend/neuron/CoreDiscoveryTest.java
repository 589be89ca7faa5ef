package io.basalt.backend.neuron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Devices and NEURON_RT_VISIBLE_CORES from a fake root; the provider's cheap availability check. */
class CoreDiscoveryTest {
    @TempDir
    Path root;

    @Test
    void devicesAreCountedAndVisibleCoresParsed() throws Exception {
        Files.createDirectories(root.resolve("dev"));
        for (String n : List.of("neuron0", "neuron1", "neuron12", "neuronx", "null")) Files.createFile(root.resolve("dev").resolve(n));
        CoreDiscovery d = CoreDiscovery.discover(root, "0-1,4");
        assertEquals(3, d.devices());
        assertEquals(Optional.of(List.of(0, 1, 4)), d.visibleCores());
        assertEquals("3 Neuron devices (/dev/neuron*), NEURON_RT_VISIBLE_CORES selects 3 cores [0, 1, 4]", d.describe());
        assertEquals(List.of(3), CoreDiscovery.parseVisibleCores("3"));
        assertEquals(List.of(0, 1, 2, 3), CoreDiscovery.parseVisibleCores("0-3"));
        assertEquals(List.of(0, 2, 5), CoreDiscovery.parseVisibleCores("0,2,5"));
        assertEquals("no Neuron device (/dev/neuron*), NEURON_RT_VISIBLE_CORES unset", CoreDiscovery.discover(root.resolve("none"), null).describe());
        assertEquals("NEURON_RT_VISIBLE_CORES='3-1': '3-1' is not a core, a range a-b or a list (e.g. 0, 0-3, 0,2,5)",
                assertThrows(IllegalArgumentException.class, () -> CoreDiscovery.parseVisibleCores("3-1")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> CoreDiscovery.parseVisibleCores("a"));
    }

    @Test
    void theProviderIsAvailableOnlyWhereALibnrtOrADeviceCouldBeFound() throws Exception {
        assertFalse(NeuronBackendProvider.available(null, null, root));
        assertFalse(NeuronBackendProvider.available(root.resolve("absent.so").toString(), null, root));
        assertEquals("-Dbasalt.nrt.library=" + root.resolve("absent.so") + ": no such file",
                NeuronBackendProvider.reason(root.resolve("absent.so").toString(), null, root));
        assertTrue(NeuronBackendProvider.reason(null, null, root).contains("set BASALT_NRT_LIBRARY"));
        Path lib = Files.createFile(root.resolve("libnrt.so.1"));
        assertTrue(NeuronBackendProvider.available(null, lib.toString(), root));
        Files.createDirectories(root.resolve("dev"));
        Files.createFile(root.resolve("dev/neuron0"));
        assertTrue(NeuronBackendProvider.available(null, null, root));
        assertEquals("neuron", new NeuronBackendProvider().name());
    }
}
