package io.basalt.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.spi.BackendProvider;
import io.basalt.spi.ShapePolicy;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every dynamic backend signs: on each tiny model, the same prompt teacher-forced and then greedy gives
 * the CPU backend's logits and hidden states within the fp32 parity thresholds, through the same harness users run
 * ({@code basalt parity run} + {@code compare}). Every backend of this module's class path takes part (torch here;
 * CUDA when its module is added); a backend that cannot run on this machine is skipped, never failed.
 */
class BackendContractTest {
    static final String REFERENCE = "cpu";
    static final int[] S1 = {0, 17, 999, 421, 5, 5, 5, 300, 42, 731, 1, 268};
    static final List<String> MODELS = List.of("stories260K/stories260K.bin", "gpt2-tiny-random/hf",
            "gpt2-tiny-random/llmc/gpt2_tiny_random.bin", "gpt-oss-tiny-random/hf", "gpt-oss-tiny-random/original",
            "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");

    @TempDir
    Path dir;

    /** Production backends only (the test fakes of other modules are on this class path too), the CPU one aside. */
    static Stream<Arguments> backendsAndModels() {
        List<Arguments> out = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            String where = String.valueOf(p.getClass().getProtectionDomain().getCodeSource().getLocation());
            if (p.name().equals(REFERENCE) || where.contains("test-classes") || where.contains("-tests.jar")) continue;
            for (String m : MODELS) out.add(Arguments.of(p.name(), m));
        }
        if (out.isEmpty()) out.add(Arguments.of("none", MODELS.getFirst())); // skipped below: no backend besides the CPU one
        return out.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("backendsAndModels")
    void everyDynamicBackendMatchesTheCpuBackend(String backend, String model) throws IOException {
        Assumptions.assumeTrue(io.basalt.backend.Backends.isAvailable(backend), backend + " cannot run on this machine");
        Path m = Shared.model(model);
        int vocab = io.basalt.model.layout.ModelInfo.describe(m).vocabSize();
        String tokens = java.util.Arrays.toString(java.util.Arrays.stream(S1).map(t -> t % vocab).toArray()); // stories260K has 512
        Path prompts = Files.writeString(dir.resolve("prompts.jsonl"), "{\"tokens\": " + tokens + "}\n");
        DumpMetadata a = record(REFERENCE, m, prompts, dir.resolve("cpu.safetensors"));
        Assumptions.assumeTrue(isDynamic(backend, m), backend + " compiles fixed shapes: its contract is bucketed, not this one");
        record(backend, m, prompts, dir.resolve(backend + ".safetensors"));
        try (ParityDump ref = ParityDump.open(dir.resolve("cpu.safetensors"));
             ParityDump got = ParityDump.open(dir.resolve(backend + ".safetensors"))) {
            Comparison c = ParityComparator.compare(ref, got);
            assertEquals(a.prompts().getFirst().positions(), c.comparedPositions(), "every position compared");
            assertTrue(c.hiddenCompared(), "hidden states compared");
            List<Thresholds.Violation> past = Thresholds.defaults(Precision.FP32).check(c);
            System.out.printf("BackendContractTest: %s on %s: max |Δlogit| %.3g, top-1 %.2f, worst layer rel RMS %.3g%n", backend, model,
                    c.overall().maxAbs(), c.overall().top1(),
                    c.layers().stream().mapToDouble(LayerStats::relRms).max().orElse(0));
            assertEquals(List.of(), past, backend + " on " + model + " is past the fp32 thresholds");
        }
    }

    private static DumpMetadata record(String backend, Path model, Path prompts, Path out) {
        return ParityRecorder.run(new ParityRecorder.Request(model, backend, io.basalt.model.layout.LoadOptions.parse("fp32", "none"), null, prompts, out, 4,
                new LogitsMode.Full(), true, 8L << 20), line -> { });
    }

    private static boolean isDynamic(String backend, Path model) {
        try (var b = io.basalt.backend.Backends.open(backend);
             var runner = b.load(model, new io.basalt.spi.Backend.LoadConfig(8L << 20, 1, 1, io.basalt.spi.StorageDtype.FP32,
                     io.basalt.spi.Quantization.NONE))) {
            return runner.capabilities().shapePolicy() instanceof ShapePolicy.Dynamic;
        }
    }
}
