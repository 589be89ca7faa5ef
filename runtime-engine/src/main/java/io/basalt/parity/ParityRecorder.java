package io.basalt.parity;

import io.basalt.backend.Backends;
import io.basalt.model.layout.LoadOptions;
import io.basalt.spi.Backend;
import io.basalt.spi.Batch;
import io.basalt.spi.Capabilities;
import io.basalt.spi.KvLayout;
import io.basalt.spi.ModelRunner;
import io.basalt.spi.ModelSpec;
import io.basalt.spi.SequenceInput;
import io.basalt.spi.SequenceOutput;
import io.basalt.spi.ShapePolicy;
import io.basalt.spi.StepOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code parity run}: drives a {@link ModelRunner} directly through the SPI, one token per step, so
 * every position has its logits and hidden states: the prompt teacher-forced (like a peer's
 * full-sequence forward), then {@code maxTokens} greedy tokens, each also run through the model.
 * Generation does not stop at end-of-sequence ids, so both sides of a comparison have the same shape.
 */
public final class ParityRecorder {
    private ParityRecorder() {}

    /**
     * @param kvCacheMemoryBytes the KV budget handed to the backend; one sequence at a time is
     *                           recorded, so it needs room for the longest prompt + maxTokens only
     * @param compiled           a compiled package for the backend ({@code --compiled}, the neuron backend), or null
     */
    public record Request(Path model, String backend, LoadOptions weights, Path tokenizer, Path prompts, Path out,
                          int maxTokens, LogitsMode logits, boolean hidden, long kvCacheMemoryBytes, Path compiled) {
        public Request {
            if (maxTokens < 0) throw new ParityInputException("--max-tokens must not be negative, got " + maxTokens);
        }

        /** Nothing compiled ahead. */
        public Request(Path model, String backend, LoadOptions weights, Path tokenizer, Path prompts, Path out,
                       int maxTokens, LogitsMode logits, boolean hidden, long kvCacheMemoryBytes) {
            this(model, backend, weights, tokenizer, prompts, out, maxTokens, logits, hidden, kvCacheMemoryBytes, null);
        }

        /** How the backend loads: one sequence, one token per step, the package when there is one. */
        Backend.LoadConfig loadConfig() {
            Backend.LoadConfig c = new Backend.LoadConfig(kvCacheMemoryBytes, 1, 1, weights.storage(), weights.quantize());
            return compiled == null ? c : c.withCompiled(compiled);
        }
    }

    /** Records the dump; returns its metadata. Prompts and paths are checked before the model loads. */
    public static DumpMetadata run(Request r, Consumer<String> log) {
        List<PromptSet.Entry> prompts = PromptSet.read(r.prompts());
        if (!Files.exists(r.model())) throw new ParityInputException("--model " + r.model() + ": no such file or directory");
        if (r.compiled() != null && !Files.isDirectory(r.compiled())) throw new ParityInputException("--compiled " + r.compiled() + ": no such directory");
        if (r.tokenizer() != null && !Files.isRegularFile(r.tokenizer())) throw new ParityInputException("--tokenizer " + r.tokenizer() + ": no such file");
        String hash = ModelFingerprint.of(r.model());
        Precision precision = Precision.ofRun(r.weights());
        try (Backend backend = Backends.open(r.backend());
             ModelRunner runner = backend.load(r.model(), r.loadConfig())) {
            ModelSpec spec = runner.spec();
            List<int[]> ids = PromptTokens.encode(prompts, r.model(), r.tokenizer());
            List<DumpMetadata.Prompt> entries = new ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                entries.add(new DumpMetadata.Prompt(prompts.get(i).text(), ids.get(i).length, ids.get(i).length + r.maxTokens()));
            }
            DumpMetadata meta = new DumpMetadata(DumpMetadata.VERSION, "run", r.model().toString(), hash, ModelFingerprint.METHOD,
                    backend.name(), lower(r.weights().storage()), lower(r.weights().quantize()), precision.label(), r.logits().spec(), spec.vocabSize(),
                    r.hidden() ? spec.numLayers() : 0, r.hidden() ? spec.hiddenSize() : 0, MachineInfo.machine(),
                    MachineInfo.versions(backend), Instant.now().toString(), lower(spec.architecture()) + " on " + backend.name(), entries);
            try (DumpWriter w = DumpWriter.create(r.out(), meta)) {
                record(runner, ids, w, log);
                w.commit();
            }
            return meta;
        }
    }

    private static String lower(Enum<?> e) { return e.name().toLowerCase(Locale.ROOT); }

    /**
     * Runs every prompt of {@code writer}'s metadata through {@code runner} and writes its rows.
     * {@code prompts.get(p)} are prompt p's ids; the metadata says how many positions to record.
     */
    public static void record(ModelRunner runner, List<int[]> prompts, DumpWriter writer, Consumer<String> log) {
        DumpMetadata meta = writer.metadata();
        ModelSpec spec = runner.spec();
        Capabilities caps = runner.capabilities();
        if (caps.onDeviceSampling()) throw new ParityInputException("backend '" + meta.backend() + "' samples on the device and returns no logits");
        if (meta.logitsMode() instanceof LogitsMode.TopK k && k.k() > spec.vocabSize()) {
            throw new ParityInputException("--logits " + k.spec() + " asks for more ids than the vocabulary has (" + spec.vocabSize() + ")");
        }
        Optional<ShapePolicy.Bucket> padded = oneTokenShape(caps, meta.backend());
        Batch.HiddenStates hidden = meta.hasHidden() ? Batch.HiddenStates.PER_LAYER : Batch.HiddenStates.NONE;
        for (int p = 0; p < prompts.size(); p++) {
            DumpMetadata.Prompt prompt = meta.prompts().get(p);
            int positions = prompt.positions();
            if (positions > spec.maxPositions()) {
                throw new ParityInputException("prompt " + p + " needs " + positions + " positions; the model has " + spec.maxPositions());
            }
            int[] tokens = new int[positions];
            System.arraycopy(prompts.get(p), 0, tokens, 0, prompt.promptLength());
            for (int i = 0; i < prompt.promptLength(); i++) {
                if (tokens[i] >= spec.vocabSize()) {
                    throw new ParityInputException("prompt " + p + ": token id " + tokens[i] + " is outside the vocabulary (" + spec.vocabSize() + ")");
                }
            }
            int[] blockTable = blockTable(caps, positions);
            for (int pos = 0; pos < positions; pos++) {
                SequenceInput in = new SequenceInput(p, new int[] {tokens[pos]}, pos, blockTable, true);
                StepOutput out = runner.execute(new Batch(List.of(), List.of(in), padded, hidden));
                float[] logits = onlyLogits(out, meta.backend(), pos);
                writer.logits(p, pos, logits);
                if (meta.hasHidden()) writeHidden(writer, meta, out, p, pos);
                if (pos + 1 < positions && pos + 1 >= prompt.promptLength()) tokens[pos + 1] = TopIds.argmax(logits);
            }
            writer.tokens(p, tokens);
            log.accept("prompt " + (p + 1) + "/" + prompts.size() + ": " + prompt.promptLength() + " prompt + "
                    + (positions - prompt.promptLength()) + " generated positions");
        }
    }

    /**
     * The logits after each of {@code tokens}, fed one per step through {@code runner} (any backend, the same path
     * as {@link #record}): [tokens, vocab].
     */
    public static float[][] logitsAt(ModelRunner runner, String backendName, int[] tokens) {
        ModelSpec spec = runner.spec();
        Capabilities caps = runner.capabilities();
        if (caps.onDeviceSampling()) throw new ParityInputException("backend '" + backendName + "' samples on the device and returns no logits");
        if (tokens.length > spec.maxPositions()) {
            throw new ParityInputException(tokens.length + " tokens exceed the model's context of " + spec.maxPositions());
        }
        for (int t : tokens) {
            if (t < 0 || t >= spec.vocabSize()) throw new ParityInputException("token id " + t + " is outside the vocabulary [0, " + spec.vocabSize() + ")");
        }
        Optional<ShapePolicy.Bucket> padded = oneTokenShape(caps, backendName);
        int[] blockTable = blockTable(caps, tokens.length);
        float[][] out = new float[tokens.length][];
        for (int pos = 0; pos < tokens.length; pos++) {
            StepOutput step = runner.execute(new Batch(List.of(), List.of(new SequenceInput(0, new int[] {tokens[pos]}, pos, blockTable, true)),
                    padded, Batch.HiddenStates.NONE));
            out[pos] = onlyLogits(step, backendName, pos);
        }
        return out;
    }

    /** The shape of a one-token step: none for dynamic backends, the smallest bucket that holds it for bucketed ones. */
    private static Optional<ShapePolicy.Bucket> oneTokenShape(Capabilities caps, String backendName) {
        return switch (caps.shapePolicy()) {
            case ShapePolicy.Dynamic d -> Optional.empty();
            case ShapePolicy.Bucketed b -> {
                ShapePolicy.Bucket fit = b.fit(1, 1);
                if (fit == null) throw new ParityInputException("backend '" + backendName + "' has no bucket for one token of one sequence");
                yield Optional.of(fit);
            }
        };
    }

    /** The logits of a one-sequence step. */
    private static float[] onlyLogits(StepOutput out, String backendName, int pos) {
        if (out.sequences().size() == 1 && out.sequences().getFirst() instanceof SequenceOutput.Logits l) return l.values();
        throw new IllegalStateException("backend '" + backendName + "' returned no logits at position " + pos);
    }

    private static void writeHidden(DumpWriter writer, DumpMetadata meta, StepOutput out, int p, int pos) {
        if (out.hiddenStates().isEmpty() || out.hiddenStates().getFirst() == null) {
            throw new ParityInputException("backend '" + meta.backend() + "' returns no hidden states; run with --hidden none");
        }
        float[][][] h = out.hiddenStates().getFirst();
        if (h.length != meta.numLayers()) {
            throw new IllegalStateException("backend '" + meta.backend() + "' returned " + h.length + " layers of hidden states, the model has " + meta.numLayers());
        }
        for (int l = 0; l < h.length; l++) writer.hidden(p, l, pos, h[l][h[l].length - 1]);
    }

    /** Blocks 0.. for one sequence (the same blocks serve every prompt in turn), or slot 0. */
    private static int[] blockTable(Capabilities caps, int positions) {
        return switch (caps.kvLayout()) {
            case KvLayout.Slots s -> {
                if (positions > s.maxLength()) throw new ParityInputException(positions + " positions do not fit a KV slot of " + s.maxLength());
                yield new int[] {0};
            }
            case KvLayout.Paged pg -> {
                int blocks = (positions + pg.blockSize() - 1) / pg.blockSize();
                if (blocks > caps.numKvBlocks()) {
                    throw new ParityInputException(positions + " positions need " + blocks + " KV blocks of " + pg.blockSize() + "; the backend has "
                            + caps.numKvBlocks() + " (raise --kv-cache-memory)");
                }
                int[] t = new int[blocks];
                for (int i = 0; i < blocks; i++) t[i] = i;
                yield t;
            }
        };
    }
}
