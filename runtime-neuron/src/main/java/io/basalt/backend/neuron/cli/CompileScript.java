package io.basalt.backend.neuron.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --target inf2|trn1}: runs {@code kernels/neuron/compile.py} with python3. NxDI is Python only, so the real
 * compile step stays there (a host with the Neuron SDK, or the compile image); serving needs no Python.
 */
final class CompileScript {
    static final String SCRIPT = "kernels/neuron/compile.py";

    private CompileScript() {}

    static int run(Path model, Path out, CompileOptions o, PrintWriter stdout, PrintWriter stderr) {
        Path script = locate();
        String python = System.getenv().getOrDefault("BASALT_PYTHON", "python3");
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), model.toString(), "--out", out.toString()));
        cmd.addAll(o.scriptArguments());
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + python + " (" + e.getMessage() + "): --target " + o.target()
                    + " needs python3 with the Neuron SDK (neuronx-cc, torch-neuronx, neuronx-distributed-inference); "
                    + "set BASALT_PYTHON to another interpreter, or use the compile image (Dockerfile.neuron --target compile)");
        }
        try {
            p.getOutputStream().close(); // the script reads nothing
        } catch (IOException e) {
            // already closed by the process: nothing to send anyway
        }
        Thread err = pump(p.getErrorStream(), stderr);
        Thread outPump = pump(p.getInputStream(), stdout);
        try {
            int code = p.waitFor();
            err.join();
            outPump.join();
            return code;
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /** basalt.home (the launcher sets it), BASALT_HOME, else the folders above this class's jar or class folder. */
    static Path locate() {
        List<Path> roots = new ArrayList<>();
        String home = System.getProperty("basalt.home");
        if (home != null && !home.isBlank()) roots.add(Path.of(home));
        String env = System.getenv("BASALT_HOME");
        if (env != null && !env.isBlank()) roots.add(Path.of(env));
        try {
            var source = CompileScript.class.getProtectionDomain().getCodeSource();
            if (source != null) {
                for (Path p = Path.of(source.getLocation().toURI()).toAbsolutePath().getParent(); p != null; p = p.getParent()) roots.add(p);
            }
        } catch (URISyntaxException | SecurityException e) {
            // no location to search from: basalt.home and BASALT_HOME are the only places
        }
        for (Path r : roots) {
            Path s = r.resolve(SCRIPT);
            if (Files.isRegularFile(s)) return s;
        }
        throw new IllegalStateException(SCRIPT + " not found (looked under basalt.home, BASALT_HOME and the folders above the "
                + "basalt jar); set BASALT_HOME to the Basalt checkout or image root");
    }

    private static Thread pump(InputStream in, PrintWriter to) {
        return Thread.ofPlatform().daemon().start(() -> {
            try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (to) {
                        to.println(line);
                        to.flush();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
