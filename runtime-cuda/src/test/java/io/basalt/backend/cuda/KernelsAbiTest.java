package io.basalt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The launcher's descriptors are the ABI file's lines: names, order, parameter names and types, launch formulas. */
class KernelsAbiTest {
    private static final Path ABI = Path.of(System.getProperty("user.dir")).resolve("../kernels/cuda/kernels.abi");

    @Test
    void descriptorsEqualTheAbiFile() throws Exception {
        Map<String, Kernels.Descriptor> file = Kernels.parse(Files.readString(ABI));
        assertEquals(List.copyOf(file.keySet()), List.copyOf(Kernels.DESCRIPTORS.keySet()), "kernel names in ABI order");
        for (var e : file.entrySet()) {
            assertEquals(e.getValue(), Kernels.DESCRIPTORS.get(e.getKey()), e.getKey());
        }
    }

    @Test
    void theParserReadsTypesOptionalPointersAndGeometry() {
        Kernels.Descriptor d = Kernels.DESCRIPTORS.get("basalt_matmul");
        assertEquals(new Kernels.Param("bias", "ptr", true), d.params().get(4));
        assertEquals(new Kernels.Param("n", "i32", false), d.params().get(7));
        assertEquals("grid(CEIL(rows,4),CEIL(n,8)) block(128)", d.geometry());
        assertEquals(20, Kernels.DESCRIPTORS.size());
        assertTrue(Kernels.DESCRIPTORS.values().stream().allMatch(k -> k.name().startsWith("basalt_")));
    }

    @Test
    void aLineThatIsNotAnAbiLineIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Kernels.parse("basalt_x(a:ptr"));
    }
}
