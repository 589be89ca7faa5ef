package io.basalt.backend.neuron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** kernels/neuron/compile.py's own tests (stdlib unittest), in the default Maven suite; skipped without python3. */
class CompileScriptTest {
    @Test
    void theScriptsUnitTestsPass() {
        Python.assumePython();
        Python.Result r = Python.run(Python.repoRoot(), List.of("python3", "-m", "unittest", "discover", "-s", "kernels/neuron/tests",
                "-t", "kernels/neuron/tests", "-v"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("OK"), r.output());
    }
}
