package io.basalt.backend.cuda.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code basalt cuda check} on this machine: bad usage, no libcuda, and the whole check on the stand-in. */
class CudaCheckCommandTest {
    record Run(int exitCode, String out, String err) { }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = new CudaCommand().run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void badUsageIsOneLineAndExitTwo(@TempDir Path dir) {
        for (String[] args : List.of(new String[] {"check", "--budget-seconds", "0", "--out", dir.toString()},
                new String[] {"check", "--no-such-option"}, new String[] {"check", "--budget-seconds", "x"})) {
            Run r = run(args);
            assertEquals(2, r.exitCode(), r.err());
            assertTrue(r.err().startsWith("basalt: "), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }

    @Test
    void withoutLibcudaTheCheckFailsAndSaysWhyInResultsJson(@TempDir Path dir) throws Exception {
        String saved = System.getProperty("basalt.cuda.library");
        System.setProperty("basalt.cuda.library", dir.resolve("no-libcuda.so.1").toString());
        try {
            Run r = run("check", "--quick", "--out", dir.resolve("out").toString());
            assertEquals(1, r.exitCode(), r.out() + r.err());
            JsonNode doc = new ObjectMapper().readTree(dir.resolve("out/results.json").toFile());
            assertTrue(!doc.get("gates_passed").asBoolean());
            JsonNode first = doc.get("results").get(0);
            assertEquals("fail", first.get("status").asText());
            assertTrue(first.get("detail").asText().contains("no-libcuda.so.1"), first.toString());
            for (JsonNode row : doc.get("results")) {
                if (!row.get("step").asText().equals("0")) assertEquals("skip", row.get("status").asText(), row.toString());
            }
            assertTrue(Files.readString(dir.resolve("out/results.md")).contains("Correctness gates: **FAIL**"));
            assertTrue(r.out().contains("correctness: FAIL"), r.out());
        } finally {
            if (saved == null) System.clearProperty("basalt.cuda.library");
            else System.setProperty("basalt.cuda.library", saved);
        }
    }

    /** The whole check against the stand-in: kernels vs the CPU reference through the C references, parity, host code. */
    @Test
    void onTheStandinEveryCorrectnessStepRunsAndSiliconStepsSayWhyTheySkip(@TempDir Path dir) throws Exception {
        String lib = System.getProperty("basalt.cuda.library");
        Assumptions.assumeTrue(lib != null && Files.isRegularFile(Path.of(lib)), "the stand-in libcuda is not built (" + lib + ")");
        Run r = run("check", "--quick", "--budget-seconds", "300", "--out", dir.toString());
        JsonNode doc = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        assertTrue(doc.get("environment").get("standin").asBoolean(), doc.toString());
        List<String> failed = new ArrayList<>();
        int kernels = 0;
        for (JsonNode row : doc.get("results")) {
            if (row.get("status").asText().equals("fail")) failed.add(row.get("name").asText() + ": " + row.get("detail").asText());
            if (row.get("step").asText().equals("3")) kernels++;
            if (row.get("status").asText().equals("skip")) assertTrue(!row.get("detail").asText().isBlank(), "a skip says why: " + row);
        }
        assertTrue(kernels >= 10, "every kernel check is reported: " + kernels);
        assertEveryAbiKernelIsChecked(doc);
        assertGemmCeilingIsReported(doc);
        Assumptions.assumeTrue(failed.isEmpty() || r.exitCode() == 0, () -> "the backend is not complete on this branch yet: " + failed);
        assertEquals(0, r.exitCode(), r.out());
    }

    /** Each kernel of kernels/cuda/kernels.abi names a step-3 row (by its name without "basalt_", a word of the row's name). */
    static void assertEveryAbiKernelIsChecked(JsonNode doc) throws Exception {
        Path abi = Path.of(System.getProperty("user.dir")).resolve("../kernels/cuda/kernels.abi");
        List<String> rows = new ArrayList<>();
        for (JsonNode row : doc.get("results")) if (row.get("step").asText().equals("3")) rows.add(row.get("name").asText());
        List<String> missing = new ArrayList<>();
        for (String line : Files.readAllLines(abi)) {
            if (!line.startsWith("basalt_")) continue;
            String kernel = line.substring("basalt_".length(), line.indexOf('('));
            if (rows.stream().noneMatch(r -> List.of(r.split("[ /]")).contains(kernel))) missing.add(kernel);
        }
        assertTrue(missing.isEmpty(), "ABI kernels without a check: " + missing + " in " + rows);
    }

    /** The stand-in has a cuBLASLt (a C GEMM), so step 1 measures the ceiling through it rather than falling back. */
    static void assertGemmCeilingIsReported(JsonNode doc) {
        for (JsonNode row : doc.get("results")) {
            if (row.get("name").asText().equals("bf16 GEMM ceiling (cuBLASLt)")) {
                assertEquals("info", row.get("status").asText(), row.toString());
                assertTrue(row.get("data").get("flops_per_second").asDouble() > 0, row.toString());
                return;
            }
        }
        throw new AssertionError("no cuBLASLt GEMM ceiling row: " + doc.get("results"));
    }
}
