package io.basalt.backend.neuron;

import io.basalt.model.Checkpoint;
import io.basalt.model.ModelFormatException;
import io.basalt.model.ModelFormats;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.ModelInfo;
import io.basalt.spi.Architecture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * {@code basalt neuron compile --target standin}: writes a package for the stand-in libnrt (docs/NEURON.md §4) from a
 * Llama checkpoint, without the Neuron SDK: manifest.json plus one stand-in NEFF per bucket (a real NEFF header and
 * the graph's description). The inputs and outputs are {@link BucketLayout}'s, the checkpoint keys {@link LlamaLayout}'s.
 */
public final class StandinCompiler {
    public static final String COMPILER = "basalt-standin 0.1.0";

    private StandinCompiler() {}

    /**
     * @param tpDegree       ranks the model is split over (must divide the head, KV head and FFN sizes)
     * @param weightDtype    f32 | bf16
     * @param prefillLengths prefill bucket lengths (batch 1 each), each 2..maxLength
     * @param decodeBatches  decode batch sizes, each 1..maxBatch
     * @param kvLengths      decode kv_lengths, each ≤ maxLength; maxLength itself is always added, so every
     *                       position of a slot has a decode bucket
     * @param maxBatch       KV slots (sequences at once)
     * @param maxLength      positions per slot (at most the model's context)
     * @param output         logits | token_ids (greedy on the device)
     */
    public record Options(int tpDegree, String weightDtype, List<Integer> prefillLengths, List<Integer> decodeBatches,
                          List<Integer> kvLengths, int maxBatch, int maxLength, String output) {
        public Options {
            prefillLengths = List.copyOf(new TreeSet<>(prefillLengths));
            decodeBatches = List.copyOf(new TreeSet<>(decodeBatches));
            TreeSet<Integer> kv = new TreeSet<>(kvLengths);
            kv.add(maxLength);
            kvLengths = List.copyOf(kv);
            if (tpDegree < 1) throw new IllegalArgumentException("--tp must be at least 1, got " + tpDegree);
            if (!weightDtype.equals("f32") && !weightDtype.equals("bf16")) throw new IllegalArgumentException("--dtype must be f32 or bf16, got " + weightDtype);
            if (!output.equals("logits") && !output.equals("token_ids")) throw new IllegalArgumentException("output must be logits or token_ids, got " + output);
            if (maxBatch < 1 || maxLength < 2) throw new IllegalArgumentException("--max-batch must be ≥ 1 and --max-length ≥ 2, got " + maxBatch + ", " + maxLength);
            if (prefillLengths.isEmpty() || decodeBatches.isEmpty()) throw new IllegalArgumentException("need at least one prefill bucket and one decode batch size");
            for (int l : prefillLengths) {
                if (l < 2 || l > maxLength) throw new IllegalArgumentException("prefill bucket length " + l + " must be in [2, max length " + maxLength + "]");
            }
            for (int b : decodeBatches) {
                if (b < 1 || b > maxBatch) throw new IllegalArgumentException("decode batch " + b + " must be in [1, max batch " + maxBatch + "]");
            }
            for (int k : kvLengths) {
                if (k < 1 || k > maxLength) throw new IllegalArgumentException("kv length " + k + " must be in [1, max length " + maxLength + "]");
            }
        }

        /** tp 1, f32, prefill 128, decode batches 1 and 4, kv lengths 128 and 256, 4 slots of 256, logits. */
        public static Options defaults() { return new Options(1, "f32", List.of(128), List.of(1, 4), List.of(128, 256), 4, 256, "logits"); }

        public Options withTp(int tp) { return new Options(tp, weightDtype, prefillLengths, decodeBatches, kvLengths, maxBatch, maxLength, output); }

        public Options withWeightDtype(String d) { return new Options(tpDegree, d, prefillLengths, decodeBatches, kvLengths, maxBatch, maxLength, output); }

        public Options withOutput(String o) { return new Options(tpDegree, weightDtype, prefillLengths, decodeBatches, kvLengths, maxBatch, maxLength, o); }
    }

    /**
     * Compiles {@code model} into the package directory {@code outDir} (created if absent; an existing manifest.json
     * and NEFFs are replaced). Returns the manifest written.
     */
    public static Manifest compile(Path model, Path outDir, Options o) {
        Manifest.Config config;
        LlamaLayout layout;
        try (Checkpoint checkpoint = ModelFormats.open(model)) {
            Architecture arch = ModelInfo.architectureOf(checkpoint);
            if (arch != Architecture.LLAMA) {
                throw new ModelFormatException(model, "the neuron compile contract supports llama only, this checkpoint is "
                        + arch.name().toLowerCase(Locale.ROOT));
            }
            layout = LlamaLayout.of(checkpoint);
            config = CheckpointFingerprint.config(model, layout);
        }
        if (o.maxLength() > config.maxPositions()) {
            throw new IllegalArgumentException("--max-length " + o.maxLength() + " exceeds the model's context of " + config.maxPositions());
        }
        List<Manifest.FileEntry> files = CheckpointFingerprint.files(model);
        Manifest shell = new Manifest(Manifest.FORMAT, Manifest.VERSION, "standin", COMPILER,
                new Manifest.Checkpoint("llama", files, config), o.tpDegree(), o.weightDtype(),
                new Manifest.Kv(o.maxBatch(), o.maxLength(), "f32"), true, o.output(), List.of());
        List<Manifest.Bucket> buckets = new ArrayList<>();
        for (int len : o.prefillLengths()) buckets.add(new Manifest.Bucket(Manifest.Bucket.PREFILL, 1, len, len, "prefill_b1_l" + len + ".neff", "", List.of(), List.of()));
        for (int b : o.decodeBatches()) {
            for (int k : o.kvLengths()) buckets.add(new Manifest.Bucket(Manifest.Bucket.DECODE, b, 1, k, "decode_b" + b + "_k" + k + ".neff", "", List.of(), List.of()));
        }
        try {
            Files.createDirectories(outDir);
            List<Manifest.Bucket> written = new ArrayList<>();
            for (Manifest.Bucket b : buckets) written.add(writeNeff(outDir, shell, layout, b));
            Manifest m = new Manifest(shell.format(), shell.version(), shell.target(), shell.compiler(), shell.checkpoint(), shell.tpDegree(),
                    shell.weightDtype(), shell.kv(), shell.chunkedPrefill(), shell.output(), written);
            ManifestWriter.write(outDir, m);
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the package " + outDir + ": " + e.getMessage(), e);
        }
    }

    /** The bucket's inputs and outputs in NEFF order, its stand-in NEFF written, and its sha256 filled in. */
    private static Manifest.Bucket writeNeff(Path dir, Manifest m, LlamaLayout layout, Manifest.Bucket b) throws IOException {
        int layers = m.checkpoint().config().numLayers();
        List<Manifest.Output> outputs = new ArrayList<>();
        outputs.add(output(m, b, m.output(), 0));
        for (String kind : BucketLayout.stateKinds(layers)) outputs.add(output(m, b, kind, outputs.size()));
        List<Manifest.Input> inputs = new ArrayList<>();
        for (String kind : BucketLayout.userKinds(m.outputsTokenIds())) inputs.add(input(m, b, kind, inputs.size(), null, null));
        for (String kind : BucketLayout.weightKinds(layers)) inputs.add(input(m, b, kind, inputs.size(), LlamaWeights.key(layout, kind), null));
        for (String kind : BucketLayout.stateKinds(layers)) {
            String alias = outputs.stream().filter(x -> x.kind().equals(kind)).findFirst().orElseThrow().name();
            inputs.add(input(m, b, kind, inputs.size(), null, alias));
        }
        byte[] data = description(m, b, inputs, outputs).getBytes(StandardCharsets.UTF_8);
        String name = b.neff().substring(0, b.neff().length() - ".neff".length());
        byte[] header = NeffHeader.write("basalt-standin", name, CheckpointFingerprint.sha256(data), data.length);
        byte[] file = new byte[header.length + data.length];
        System.arraycopy(header, 0, file, 0, header.length);
        System.arraycopy(data, 0, file, header.length, data.length);
        Files.write(dir.resolve(b.neff()), file);
        return new Manifest.Bucket(b.tag(), b.batch(), b.length(), b.kvLength(), b.neff(),
                HexFormat.of().formatHex(CheckpointFingerprint.sha256(file)), inputs, outputs);
    }

    private static Manifest.Input input(Manifest m, Manifest.Bucket b, String kind, int index, String key, String alias) {
        BucketLayout.Slot s = BucketLayout.slot(m, b, kind);
        return new Manifest.Input("input" + index, s.role(), kind, key, s.shape(), s.dtype(), s.shardAxis(), alias);
    }

    private static Manifest.Output output(Manifest m, Manifest.Bucket b, String kind, int index) {
        BucketLayout.Slot s = BucketLayout.slot(m, b, kind);
        return new Manifest.Output("output" + index, kind, s.shape(), s.dtype());
    }

    /** The graph description of docs/NEURON.md §4. */
    static String description(Manifest m, Manifest.Bucket b, List<Manifest.Input> inputs, List<Manifest.Output> outputs) {
        Manifest.Config c = m.checkpoint().config();
        StringBuilder s = new StringBuilder("basalt-standin-graph 1\n");
        line(s, "kind", b.tag());
        line(s, "arch", "llama");
        line(s, "layers", c.numLayers());
        line(s, "hidden", c.hiddenSize());
        line(s, "heads", c.numHeads());
        line(s, "kv_heads", c.numKvHeads());
        line(s, "head_dim", c.headDim());
        line(s, "ffn", c.intermediateSize());
        line(s, "vocab", c.vocabSize());
        line(s, "rms_eps", Float.toString((float) c.rmsEps()));
        line(s, "rope_theta", Float.toString((float) c.ropeTheta()));
        line(s, "rotary_dims", c.rotaryDims());
        line(s, "rope_style", c.ropeStyle());
        line(s, "batch", b.batch());
        line(s, "length", b.length());
        line(s, "kv_length", b.kvLength());
        line(s, "max_batch", m.kv().maxBatch());
        line(s, "max_length", m.kv().maxLength());
        line(s, "tp_world", m.tpDegree());
        line(s, "weight_dtype", m.weightDtype());
        line(s, "output", m.output());
        for (Manifest.Input in : inputs) {
            s.append("tensor ").append(in.name()).append(" in ").append(in.dtype()).append(' ').append(shape(in.shape())).append(' ').append(in.kind());
            if (in.alias() != null) s.append(" alias=").append(in.alias());
            s.append('\n');
        }
        for (Manifest.Output out : outputs) {
            s.append("tensor ").append(out.name()).append(" out ").append(out.dtype()).append(' ').append(shape(out.shape())).append(' ')
                    .append(out.kind()).append('\n');
        }
        return s.toString();
    }

    private static void line(StringBuilder s, String key, Object value) { s.append(key).append(' ').append(value).append('\n'); }

    private static String shape(long[] shape) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < shape.length; i++) s.append(i == 0 ? "" : ",").append(shape[i]);
        return s.toString();
    }
}
