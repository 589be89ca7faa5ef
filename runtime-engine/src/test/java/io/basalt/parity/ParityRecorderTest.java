package io.basalt.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.layout.LoadOptions;
import io.basalt.spi.Batch;
import io.basalt.testing.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** parity run through the SPI: a backend found by name (a fake one; the CPU one in runtime-cpu's CpuParityRecorderTest), teacher forcing, greedy steps. */
class ParityRecorderTest {
    static final int[] S1 = {0, 17, 999, 421, 5, 5, 5, 300, 42, 731, 1, 268};

    @TempDir
    Path dir;

    private Path prompts(String... lines) throws IOException { return prompts(dir, lines); }

    /** A prompts file in {@code dir}, one JSON line each. */
    static Path prompts(Path dir, String... lines) throws IOException {
        return Files.writeString(dir.resolve("prompts-" + lines.length + ".jsonl"), String.join("\n", lines) + "\n");
    }

    static ParityRecorder.Request request(Path model, String backend, String dtype, Path prompts, Path out, int maxTokens, LogitsMode logits,
                                           boolean hidden) {
        return new ParityRecorder.Request(model, backend, LoadOptions.parse(dtype, "none"), null, prompts, out, maxTokens, logits, hidden, 1 << 20);
    }

    @Test
    void aFakeBackendFoundByNameIsTeacherForcedThenGreedy() throws IOException {
        Path model = Files.writeString(dir.resolve("fake-model"), "not a real model");
        Path out = dir.resolve("fake.safetensors");
        List<String> log = new ArrayList<>();
        DumpMetadata meta = ParityRecorder.run(request(model, FakeBackendProvider.NAME, "auto",
                prompts("{\"tokens\": [3, 1, 4, 1, 5, 9]}", "", "{\"tokens\": [2]}"), out, 7, new LogitsMode.Full(), true), log::add);
        assertEquals(FakeBackendProvider.NAME, meta.backend());
        assertEquals("fp32", meta.precision());
        assertEquals(List.of(new DumpMetadata.Prompt(null, 6, 13), new DumpMetadata.Prompt(null, 1, 8)), meta.prompts());
        assertTrue(meta.modelHash().startsWith("sha256:"));
        assertTrue(meta.versions().get("backend").startsWith(FakeBackendProvider.NAME), meta.versions().toString());
        assertEquals(2, log.size());

        // Replay the fake model one token at a time: the dump holds its rows, and greedy picks the argmax.
        try (ParityDump d = ParityDump.open(out); var runner = (FakeBackendProvider.FakeRunner) new FakeBackendProvider().open().load(model,
                new io.basalt.spi.Backend.LoadConfig(1 << 20, 1, 1))) {
            int[] tokens = d.tokens(0);
            assertArrayEquals(new int[] {3, 1, 4, 1, 5, 9}, java.util.Arrays.copyOf(tokens, 6));
            int[] table = {0, 1, 2, 3};
            for (int pos = 0; pos < tokens.length; pos++) {
                var step = runner.execute(new Batch(List.of(), List.of(new io.basalt.spi.SequenceInput(0, new int[] {tokens[pos]}, pos, table, true)),
                        Batch.HiddenStates.PER_LAYER));
                float[] expected = step.logits(0);
                assertArrayEquals(expected, d.logits(0, pos).values(), "position " + pos);
                assertArrayEquals(step.hiddenStates().getFirst()[1][0], d.hidden(0, 1, pos));
                if (pos + 1 < tokens.length && pos >= 5) assertEquals(TopIds.argmax(expected), tokens[pos + 1], "greedy at " + pos);
            }
        }
    }

    @Test
    void eachStepIsOneTokenWithItsPositionBlockTableAndHiddenStatesAsked() {
        var runner = (FakeBackendProvider.FakeRunner) new FakeBackendProvider().open().load(dir, new io.basalt.spi.Backend.LoadConfig(1 << 20, 1, 1));
        DumpMetadata meta = SyntheticDumps.metadata("fp32", "topk:5", FakeBackendProvider.VOCAB, null, List.of(new DumpMetadata.Prompt(null, 3, 9)));
        try (DumpWriter w = DumpWriter.create(dir.resolve("s.safetensors"), meta)) {
            ParityRecorder.record(runner, List.of(new int[] {1, 2, 3}), w, s -> { });
            w.commit();
        }
        assertEquals(9, runner.batches.size());
        for (int pos = 0; pos < 9; pos++) {
            Batch b = runner.batches.get(pos);
            assertEquals(1, b.numTokens());
            assertEquals(pos, b.sequences().getFirst().startPosition());
            assertArrayEquals(new int[] {0, 1, 2}, b.sequences().getFirst().blockTable(), "9 positions in blocks of 4");
            assertEquals(Batch.HiddenStates.NONE, b.hiddenStates(), "no hidden states in the metadata, none asked for");
        }
    }

    @Test
    void badPromptFilesNameTheLine() throws IOException {
        Path model = Files.writeString(dir.resolve("m"), "x");
        Path out = dir.resolve("o");
        for (String[] c : new String[][] {
                {"{\"tokens\": [1, -2]}", "line 1: \"tokens\"[1] is not a token id"},
                {"", "no prompts"},
                {"{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"tokens\": [1]}", "line 2: expected an object with either"},
                {"{nope", "line 1: not JSON"}}) {
            Path p = Files.writeString(dir.resolve("bad.jsonl"), c[0]);
            ParityInputException e = assertThrows(ParityInputException.class,
                    () -> ParityRecorder.run(request(model, FakeBackendProvider.NAME, "auto", p, out, 1, new LogitsMode.Full(), true), s -> { }));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        Path tooBig = prompts("{\"tokens\": [1, 99]}");
        ParityInputException e = assertThrows(ParityInputException.class,
                () -> ParityRecorder.run(request(model, FakeBackendProvider.NAME, "auto", tooBig, out, 1, new LogitsMode.Full(), true), s -> { }));
        assertTrue(e.getMessage().contains("token id 99 is outside the vocabulary (40)"), e.getMessage());
        assertFalse(Files.exists(out), "a failed run leaves no dump");
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> ParityRecorder.run(request(model, "no-such-backend", "auto", tooBig, out, 1, new LogitsMode.Full(), true), s -> { }));
        assertTrue(unknown.getMessage().contains("unknown backend 'no-such-backend'"), unknown.getMessage());
    }
}
