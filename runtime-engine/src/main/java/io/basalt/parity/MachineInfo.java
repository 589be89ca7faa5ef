package io.basalt.parity;

import io.basalt.spi.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The machine and software a dump was recorded with, as stored in its metadata. */
final class MachineInfo {
    private MachineInfo() {}

    static Map<String, String> machine() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("os", System.getProperty("os.name", "?") + " " + System.getProperty("os.version", ""));
        m.put("arch", System.getProperty("os.arch", "?"));
        m.put("cpu", cpuModel());
        m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        return m;
    }

    /**
     * basalt (the engine jar's manifest version), java, and the backend: its name, the jar its class
     * came from with that jar's version, and DJL's version when the backend runs on DJL.
     */
    static Map<String, String> versions(Backend backend) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("basalt", orUnknown(basaltVersion()));
        v.put("java", Runtime.version().toString() + " (" + System.getProperty("java.vm.name", "?") + ")");
        if (backend != null) {
            Class<?> c = backend.getClass();
            var source = c.getProtectionDomain().getCodeSource();
            String jar = source == null || source.getLocation() == null ? "?" : Path.of(source.getLocation().getPath()).getFileName().toString();
            v.put("backend", backend.name() + " (" + c.getName() + " from " + jar + ", version "
                    + orUnknown(c.getPackage().getImplementationVersion()) + ")");
            String djl = djlVersion();
            if (djl != null) v.put("djl", djl);
        }
        return v;
    }

    /** From the Maven descriptor the jar plugin puts in every built jar (absent when running from class folders). */
    private static String basaltVersion() {
        try (var in = MachineInfo.class.getResourceAsStream("/META-INF/maven/io.basalt/runtime-engine/pom.properties")) {
            if (in == null) return null;
            var props = new java.util.Properties();
            props.load(in);
            return props.getProperty("version");
        } catch (IOException e) {
            return null;
        }
    }

    private static String orUnknown(String s) { return s == null || s.isBlank() ? "unknown (not from a versioned jar)" : s; }

    /** DJL is optional: only a backend built on it puts it on the class path. */
    private static String djlVersion() {
        try {
            Object v = Class.forName("ai.djl.engine.Engine").getMethod("getDjlVersion").invoke(null);
            return v == null ? null : v.toString();
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    private static String cpuModel() {
        Path info = Path.of("/proc/cpuinfo");
        if (Files.isReadable(info)) {
            try (var lines = Files.lines(info)) {
                var name = lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst();
                if (name.isPresent()) return name.get();
            } catch (IOException | java.io.UncheckedIOException e) {
                // fall through to the generic answer
            }
        }
        String env = System.getenv("PROCESSOR_IDENTIFIER");
        return env != null ? env : System.getProperty("os.arch", "unknown");
    }
}
