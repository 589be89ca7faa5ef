package io.basalt.backend.neuron;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.basalt.api.SamplingParams;
import io.basalt.engine.Engine;
import io.basalt.engine.EngineConfig;
import io.basalt.engine.EngineRequest;
import io.basalt.engine.EngineTests;
import io.basalt.engine.RequestHandle;
import io.basalt.model.layout.LoadOptions;
import io.basalt.parity.Comparison;
import io.basalt.parity.LogitsMode;
import io.basalt.parity.ParityComparator;
import io.basalt.parity.ParityDump;
import io.basalt.parity.ParityRecorder;
import io.basalt.parity.Precision;
import io.basalt.parity.Thresholds;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import io.basalt.testing.Shared;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The neuron backend end to end on the stand-in libnrt: parity against the CPU backend, tensor parallelism, the
 * engine on BUCKETED + SLOTS, and the stand-in's execution log. Skipped while the bridge is the skeleton.
 */
class NeuronEndToEndTest {
    private static final int STEPS = 200;

    @TempDir
    static Path tmp;

    @BeforeEach
    void bridge() {
        assumeTrue(StandinBridge.works(), "the JNI bridge / stand-in libnrt is not built yet (Nrt is the skeleton)");
    }

    private static Path pkg(String name, Path model, StandinCompiler.Options o) {
        Path d = tmp.resolve(name);
        if (!Files.exists(d.resolve(Manifest.FILE))) StandinCompiler.compile(model, d, o);
        return d;
    }

    private static Path record(String name, Path model, String backend, Path compiled, int[] prompt) throws Exception {
        Path prompts = Files.writeString(tmp.resolve(name + ".jsonl"), "{\"tokens\": " + java.util.Arrays.toString(prompt) + "}\n");
        Path out = tmp.resolve(name + ".safetensors");
        ParityRecorder.run(new ParityRecorder.Request(model, backend, LoadOptions.parse("fp32", "none"), null, prompts, out, STEPS,
                new LogitsMode.Full(), false, 64L << 20, compiled), s -> { });
        return out;
    }

    private static Comparison compare(Path a, Path b) {
        try (ParityDump x = ParityDump.open(a); ParityDump y = ParityDump.open(b)) {
            assertArrayEquals(x.tokens(0), y.tokens(0), "greedy tokens");
            return ParityComparator.compare(x, y);
        }
    }

    private static final int[] PROMPT = {1, 403, 407, 261, 378, 410, 293, 363, 300};

    @Test
    void fp32PackagesMatchTheCpuBackendFor200GreedySteps() throws Exception {
        for (Path model : List.of(Packages.STORIES, Packages.TINY_GGUF)) {
            String n = model.getFileName().toString();
            Path cpu = record(n + "-cpu", model, "cpu", null, PROMPT);
            Path neuron = record(n + "-neuron", model, "neuron", pkg(n + "-f32", model, Packages.small()), PROMPT);
            Comparison c = compare(cpu, neuron);
            System.out.printf(Locale.ROOT, "%s fp32 package vs cpu: max |dlogit| %.3g over %d positions%n", n, c.overall().maxAbs(), c.comparedPositions());
            assertTrue(c.overall().maxAbs() <= 1e-4, n + ": max |Δlogit| " + c.overall().maxAbs());
        }
    }

    @Test
    void bf16DriftIsReportedAndWithinTheBf16Thresholds() throws Exception {
        Path cpu = record("bf16-cpu", Packages.STORIES, "cpu", null, PROMPT);
        Path neuron = record("bf16-neuron", Packages.STORIES, "neuron", pkg("bf16", Packages.STORIES, Packages.small().withWeightDtype("bf16")), PROMPT);
        try (ParityDump x = ParityDump.open(cpu); ParityDump y = ParityDump.open(neuron)) {
            Comparison c = ParityComparator.compare(x, y);
            System.out.printf(Locale.ROOT, "stories260K bf16 package vs cpu: max |dlogit| %.3g, top1 %.3f%n", c.overall().maxAbs(), c.overall().top1());
            assertTrue(c.overall().maxAbs() > 0, "bf16 weights must drift");
            assertEquals(List.of(), Thresholds.defaults(Precision.BF16).check(c));
        }
    }

    @Test
    void tp2GivesWhatTp1Gives() throws Exception {
        Path one = record("tp1", Packages.STORIES, "neuron", pkg(Packages.STORIES.getFileName() + "-f32", Packages.STORIES, Packages.small()), PROMPT);
        Path two = record("tp2", Packages.STORIES, "neuron", pkg("tp2", Packages.STORIES, Packages.small().withTp(2)), PROMPT);
        Comparison c = compare(one, two);
        System.out.printf(Locale.ROOT, "stories260K tp2 vs tp1: max |dlogit| %.3g%n", c.overall().maxAbs());
        // The all-reduce sums partial products in another order than one rank does: fp32 rounding, within the fp32 bound.
        assertTrue(c.overall().maxAbs() <= 1e-4, "max |Δlogit| " + c.overall().maxAbs());
    }

    /** Records each step's padded shape and the NEFF executes it implies, to compare with the stand-in's log. */
    static final class Recording implements ModelRunner {
        final ModelRunner inner;
        final List<String> expected = new ArrayList<>();

        Recording(ModelRunner inner) { this.inner = inner; }

        @Override public ModelSpec spec() { return inner.spec(); }

        @Override public Capabilities capabilities() { return inner.capabilities(); }

        @Override
        public StepOutput execute(Batch batch) {
            if (!batch.sequences().isEmpty()) {
                ShapePolicy.Bucket shape = batch.paddedShape().orElseThrow();
                ShapePolicy.Bucket fit = ((ShapePolicy.Bucketed) capabilities().shapePolicy()).fit(batch.sequences().size(), batch.numTokens());
                assertEquals(fit, shape, "the engine's padded shape is the smallest fitting bucket");
                int max = batch.sequences().stream().mapToInt(SequenceInput::numTokens).max().orElseThrow();
                int last = batch.sequences().stream().mapToInt(s -> s.startPosition() + s.numTokens() - 1).max().orElseThrow();
                if (shape.numSequences() == shape.numTokens()) {
                    int kv = last < 64 ? 64 : last < 128 ? 128 : 256;
                    for (int t = 0; t < max; t++) expected.add("decode_b" + shape.numSequences() + "_k" + kv);
                } else {
                    int len = shape.numTokens() / shape.numSequences();
                    for (int c = 0; c < (max + len - 1) / len; c++) expected.add("prefill_b1_l" + len);
                }
            }
            return inner.execute(batch);
        }

        @Override public void close() { inner.close(); }
    }

    private static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
    }

    /** n = 2 forks the prompt's slot into a second one (a device-side slot copy); both greedy choices equal n = 1. */
    @Test
    void aForkedRequestCopiesItsSlotAndBothChoicesMatchTheSingleOne() {
        Tokenizer tok = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), 512);
        Path dir = pkg(Packages.STORIES.getFileName() + "-f32", Packages.STORIES, Packages.small());
        int[] prompt = EngineTests.randomTokens(new Random(7), 40, 512);
        try (Backend b = new NeuronBackendProvider().open();
             Engine engine = new Engine(b.load(Packages.STORIES, new Backend.LoadConfig(64L << 20, 4, 64).withCompiled(dir)), tok,
                     EngineConfig.defaults())) {
            RequestHandle one = engine.submit(new EngineRequest("one", prompt, greedy(12), 0));
            EngineTests.runUntilIdle(engine, 10_000);
            RequestHandle two = engine.submit(new EngineRequest("two", prompt,
                    SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(true).n(2).build(), 0));
            EngineTests.runUntilIdle(engine, 10_000);
            int[] expected = EngineTests.done(one).choices().getFirst().tokenIds();
            for (var choice : EngineTests.done(two).choices()) assertArrayEquals(expected, choice.tokenIds(), "choice " + choice.index());
            assertEquals(0, engine.stats().kvUsedBlocks());
        }
    }

    @Test
    void theEngineOnBucketsAndSlotsEqualsTheSingleSequencePathAndFreesEverySlot() {
        Tokenizer tok = Tokenizers.llama2c(Shared.model("stories260K/tok512.bin"), 512);
        Path dir = pkg(Packages.STORIES.getFileName() + "-f32", Packages.STORIES, Packages.small());
        Backend.LoadConfig load = new Backend.LoadConfig(64L << 20, 4, 64).withCompiled(dir);
        Random rnd = new Random(18);
        int count = 32;
        EngineRequest[] reqs = new EngineRequest[count];
        int[] arrival = new int[count];
        int[] never = new int[count];
        java.util.Arrays.fill(never, -1);
        for (int i = 0; i < count; i++) {
            reqs[i] = new EngineRequest("r" + i, EngineTests.randomTokens(rnd, 1 + rnd.nextInt(100), 512), greedy(1 + rnd.nextInt(24)), 0);
            arrival[i] = rnd.nextInt(60);
        }
        try (Backend b = new NeuronBackendProvider().open(); Recording runner = new Recording(b.load(Packages.STORIES, load));
             Engine engine = new Engine(runner, tok, EngineConfig.defaults())) {
            int[][] alone = new int[count][];
            for (int i = 0; i < count; i++) {
                RequestHandle h = engine.submit(reqs[i]);
                EngineTests.runUntilIdle(engine, 10_000);
                alone[i] = EngineTests.done(h).choices().getFirst().tokenIds();
            }
            StandinBridge.reset();
            runner.expected.clear();
            RequestHandle[] hs = EngineTests.runWithArrivals(engine, reqs, arrival, never);
            for (int i = 0; i < count; i++) assertArrayEquals(alone[i], EngineTests.done(hs[i]).choices().getFirst().tokenIds(), "request " + i);
            List<String> rank0 = StandinBridge.log().stream().filter(l -> l.endsWith(" rank=0")).map(l -> l.split(" ")[0]).toList();
            assertEquals(runner.expected, rank0, "the stand-in ran the smallest fitting bucket every time");

            // 1,000 short requests, 20% aborted at random steps: every slot is free afterwards.
            int many = 1000;
            EngineRequest[] more = new EngineRequest[many];
            int[] at = new int[many];
            int[] abortAt = new int[many];
            for (int i = 0; i < many; i++) {
                more[i] = new EngineRequest("m" + i, EngineTests.randomTokens(rnd, 1 + rnd.nextInt(20), 512), greedy(1 + rnd.nextInt(4)), 0);
                at[i] = rnd.nextInt(1500);
                abortAt[i] = rnd.nextInt(5) == 0 ? at[i] + rnd.nextInt(4) : -1;
            }
            EngineTests.runWithArrivals(engine, more, at, abortAt);
            assertEquals(0, engine.stats().kvUsedBlocks(), "slots in use after the workload");
            assertEquals(0, engine.stats().numLiveKvSequences());
        }
    }
}
