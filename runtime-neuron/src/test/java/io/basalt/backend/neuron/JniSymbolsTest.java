package io.basalt.backend.neuron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every native method of Nrt has its JNI export in the built bridge, and the bridge exports nothing else under that prefix. */
class JniSymbolsTest {
    private static final String PREFIX = "Java_io_basalt_backend_neuron_Nrt_";

    @Test
    void exportsMatchTheNativeMethods() throws IOException, InterruptedException, URISyntaxException {
        URL bridge = Nrt.class.getResource(Nrt.BRIDGE_RESOURCE);
        assertNotNull(bridge, "the build packs " + Nrt.BRIDGE_RESOURCE);
        Process nm = new ProcessBuilder("nm", "-D", "--defined-only", Path.of(bridge.toURI()).toString())
                .redirectErrorStream(true).start();
        String out = new String(nm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, nm.waitFor(), out);
        Set<String> exported = out.lines().map(l -> l.substring(l.lastIndexOf(' ') + 1))
                .filter(s -> s.startsWith(PREFIX)).collect(Collectors.toCollection(TreeSet::new));

        Set<String> expected = Arrays.stream(Nrt.class.getDeclaredMethods())
                .filter(m -> Modifier.isNative(m.getModifiers()))
                .map(Method::getName)
                .map(name -> PREFIX + name.replace("_", "_1")) // JNI short-name mangling (no overloads in Nrt)
                .collect(Collectors.toCollection(TreeSet::new));
        // Guards the reflection itself: the calls every backend step makes are among them.
        assertTrue(expected.containsAll(Set.of(PREFIX + "nLoad", PREFIX + "nExecute", PREFIX + "nWrite", PREFIX + "nRead", PREFIX + "nCopy")),
                "Nrt's native methods: " + expected);
        assertEquals(expected, exported);
    }
}
