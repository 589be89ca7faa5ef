package io.basalt.backend.neuron;

import io.basalt.model.Checkpoint;
import io.basalt.model.DType;
import io.basalt.model.ModelFormats;
import io.basalt.model.layout.LlamaLayout;
import io.basalt.model.layout.ModelInfo;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A package loaded through libnrt: BUCKETED + SLOTS (docs/NEURON.md §5). A step runs the NEFF of its padded shape
 * on every rank at once (one thread each) and reads rank 0's logits or token ids.
 */
public final class NeuronModelRunner implements ModelRunner {
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger("basalt.neuron");
    private final Manifest m;
    private final ModelSpec spec;
    private final Capabilities caps;
    private final Nrt nrt;
    private final RankThreads ranks;
    private final DeviceModel device;
    private final Map<ShapePolicy.Bucket, Manifest.Bucket> prefill = new HashMap<>();
    private final Map<Integer, TreeMap<Integer, Manifest.Bucket>> decode = new HashMap<>(); // batch → kv_length → bucket
    private final String description;
    private boolean closed;

    private NeuronModelRunner(Manifest m, ModelSpec spec, Nrt nrt, RankThreads ranks, DeviceModel device, String description) {
        this.description = description;
        this.m = m;
        this.spec = spec;
        this.nrt = nrt;
        this.ranks = ranks;
        this.device = device;
        List<ShapePolicy.Bucket> spi = new ArrayList<>();
        for (Manifest.Bucket b : m.buckets()) {
            if (b.isPrefill()) {
                ShapePolicy.Bucket s = new ShapePolicy.Bucket(b.batch(), b.batch() * b.length());
                prefill.put(s, b);
                spi.add(s);
            } else if (decode.computeIfAbsent(b.batch(), x -> new TreeMap<>()).put(b.kvLength(), b) == null
                    && decode.get(b.batch()).size() == 1) {
                spi.add(new ShapePolicy.Bucket(b.batch(), b.batch()));
            }
        }
        this.caps = new Capabilities(new ShapePolicy.Bucketed(spi.stream().distinct().toList()), false,
                new KvLayout.Slots(m.kv().maxBatch(), m.kv().maxLength()), m.kv().maxBatch(), m.outputsTokenIds());
    }

    static NeuronModelRunner load(CompiledPackage pkg, Path model, Backend.LoadConfig config, Path library) {
        Manifest m = pkg.manifest();
        try (Checkpoint checkpoint = ModelFormats.open(model)) {
            LlamaLayout layout = pkg.checkModel(model, checkpoint);
            ModelInfo info = ModelInfo.of(checkpoint);
            int maxDecodeKv = m.buckets().stream().filter(b -> !b.isPrefill()).mapToInt(Manifest.Bucket::kvLength).max().orElseThrow();
            int maxPositions = Math.min(info.maxPositions(), Math.min(m.kv().maxLength(), maxDecodeKv));
            ModelSpec spec = new ModelSpec(info.architecture(), info.vocabSize(), maxPositions, info.numLayers(), info.hiddenSize(),
                    info.kv().bytesPerToken(DType.F32));
            long t0 = System.nanoTime();
            Nrt nrt = open(library);
            RankThreads ranks = null;
            DeviceModel device = null;
            try {
                int visible = nrt.visibleCores();
                if (visible < m.tpDegree()) {
                    throw new IllegalStateException("the package needs " + m.tpDegree() + " NeuronCores (tp_degree), libnrt sees " + visible
                            + "; " + CoreDiscovery.discover().describe());
                }
                nrt.init();
                ranks = new RankThreads(m.tpDegree());
                DeviceModel d = new DeviceModel(nrt, pkg);
                device = d;
                ranks.runAll(r -> d.load(r, checkpoint, layout));
                String description = describe(nrt, visible, pkg);
                LOG.info(() -> String.format("neuron backend: %s; loaded in %.1f s", description, (System.nanoTime() - t0) / 1e9));
                return new NeuronModelRunner(m, spec, nrt, ranks, device, description);
            } catch (RuntimeException e) {
                try {
                    if (device != null) device.close();
                    nrt.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                if (ranks != null) ranks.close();
                throw clear(e, "loading " + pkg.dir());
            }
        }
    }

    /** The runtime and the package, for the start line and {@code basalt neuron check}. */
    private static String describe(Nrt nrt, int visibleCores, CompiledPackage pkg) {
        Nrt.Version v = nrt.version();
        Manifest m = pkg.manifest();
        List<String> prefills = m.buckets().stream().filter(Manifest.Bucket::isPrefill).map(b -> b.batch() + "x" + b.length()).toList();
        List<String> decodes = m.buckets().stream().filter(b -> !b.isPrefill()).map(b -> b.batch() + "@" + b.kvLength()).toList();
        return String.format("libnrt %d.%d.%d.%d (%s), %d visible NeuronCore(s); package %s: target %s, tp %d, %s weights, "
                        + "prefill %s, decode %s, %d slots of %d positions", v.major(), v.minor(), v.patch(), v.maintenance(),
                nrt.library(), visibleCores, pkg.dir(), m.target(), m.tpDegree(), m.weightDtype(), String.join(" ", prefills),
                String.join(" ", decodes), m.kv().maxBatch(), m.kv().maxLength());
    }

    /** libnrt's version and path, the visible cores and the package's shape (also the start line). */
    public String describe() { return description; }

    private static Nrt open(Path library) {
        try {
            return Nrt.open(library);
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new IllegalStateException("the neuron backend cannot open libnrt" + (library == null ? "" : " (" + library + ")") + ": "
                    + e.getMessage() + "; " + CoreDiscovery.discover().describe(), e);
        }
    }

    /** An Nrt failure as one message that says what was being done. */
    private static RuntimeException clear(RuntimeException e, String doing) {
        if (e instanceof NrtException) return new IllegalStateException("neuron: " + doing + ": " + e.getMessage(), e);
        return e;
    }

    @Override public ModelSpec spec() { return spec; }

    @Override public Capabilities capabilities() { return caps; }

    @Override
    public StepOutput execute(Batch batch) {
        if (closed) throw new IllegalStateException("the neuron runner is closed");
        for (var copy : batch.blockCopies()) device.copySlot(copy.source(), copy.target());
        List<SequenceInput> seqs = batch.sequences();
        if (seqs.isEmpty()) return new StepOutput(List.of(), List.of());
        ShapePolicy.Bucket shape = batch.paddedShape().orElseThrow(() -> new IllegalArgumentException(
                "the neuron backend is BUCKETED: a step needs Batch.paddedShape (one of " + ((ShapePolicy.Bucketed) caps.shapePolicy()).buckets() + ")"));
        if (seqs.size() > shape.numSequences() || batch.numTokens() > shape.numTokens()) {
            throw new IllegalArgumentException(seqs.size() + " sequences / " + batch.numTokens() + " tokens do not fit the padded shape " + shape);
        }
        SequenceOutput[] out = new SequenceOutput[seqs.size()];
        boolean isDecode = shape.numSequences() == shape.numTokens() && decode.containsKey(shape.numSequences());
        if (isDecode) runDecode(shape, seqs, out);
        else runPrefill(shape, seqs, out);
        return new StepOutput(List.of(out), List.of());
    }

    /** Decode NEFF of the shape's batch, smallest kv_length above the step's last position; one execute per token index. */
    private void runDecode(ShapePolicy.Bucket shape, List<SequenceInput> seqs, SequenceOutput[] out) {
        int last = seqs.stream().mapToInt(s -> s.startPosition() + s.numTokens() - 1).max().orElseThrow();
        Map.Entry<Integer, Manifest.Bucket> e = decode.get(shape.numSequences()).higherEntry(last);
        if (e == null) {
            throw new IllegalArgumentException("position " + last + " is past every decode bucket of batch " + shape.numSequences()
                    + " (largest kv_length " + decode.get(shape.numSequences()).lastKey() + ")");
        }
        int steps = seqs.stream().mapToInt(SequenceInput::numTokens).max().orElseThrow();
        for (int t = 0; t < steps; t++) {
            List<StepInputs.Row> rows = new ArrayList<>();
            for (SequenceInput s : seqs) {
                int i = Math.min(t, s.numTokens() - 1); // a shorter sequence repeats its last token: identical writes
                rows.add(new StepInputs.Row(s, i, i + 1));
            }
            int tt = t;
            run(e.getValue(), rows, seqs, out, s -> s.numTokens() - 1 == tt);
        }
    }

    private void runPrefill(ShapePolicy.Bucket shape, List<SequenceInput> seqs, SequenceOutput[] out) {
        Manifest.Bucket b = prefill.get(shape);
        if (b == null) throw new IllegalArgumentException("no prefill NEFF for the padded shape " + shape);
        int len = b.length();
        int chunks = seqs.stream().mapToInt(s -> (s.numTokens() + len - 1) / len).max().orElseThrow();
        if (!m.chunkedPrefill() && (chunks > 1 || seqs.stream().anyMatch(s -> s.startPosition() > 0))) {
            throw new IllegalArgumentException("the package was compiled without chunked prefill: a prompt must fit one prefill bucket of "
                    + len + " tokens and start at position 0");
        }
        for (int c = 0; c < chunks; c++) {
            List<StepInputs.Row> rows = new ArrayList<>();
            for (SequenceInput s : seqs) {
                int ci = Math.min(c, (s.numTokens() + len - 1) / len - 1); // a shorter sequence repeats its last chunk
                rows.add(new StepInputs.Row(s, ci * len, Math.min(s.numTokens(), (ci + 1) * len)));
            }
            int cc = c;
            run(b, rows, seqs, out, s -> (s.numTokens() + len - 1) / len - 1 == cc);
        }
    }

    /** Writes the rows' inputs on every rank, executes all ranks together, and reads the rows that finish here. */
    private void run(Manifest.Bucket b, List<StepInputs.Row> rows, List<SequenceInput> seqs, SequenceOutput[] out,
                     java.util.function.Predicate<SequenceInput> finishesHere) {
        Map<String, ByteBuffer> inputs = StepInputs.build(b, rows, m.kv().maxBatch());
        try {
            for (DeviceModel.Rank rank : device.ranks) {
                DeviceModel.Loaded l = rank.buckets.get(b.neff());
                for (Map.Entry<String, Nrt.Tensor> u : l.user.entrySet()) nrt.write(u.getValue(), 0, inputs.get(u.getKey()).duplicate());
            }
            ranks.runAll(r -> {
                DeviceModel.Loaded l = device.ranks[r].buckets.get(b.neff());
                nrt.execute(l.model, l.inputs, l.outputs);
            });
            boolean any = false;
            for (SequenceInput s : seqs) any |= finishesHere.test(s);
            if (!any) return;
            DeviceModel.Loaded l0 = device.ranks[0].buckets.get(b.neff());
            int vocab = spec.vocabSize();
            ByteBuffer result = ByteBuffer.allocateDirect((int) l0.result.size()).order(ByteOrder.LITTLE_ENDIAN);
            nrt.read(l0.result, 0, result);
            for (int i = 0; i < seqs.size(); i++) {
                SequenceInput s = seqs.get(i);
                if (!finishesHere.test(s)) continue;
                if (!s.needLogits()) {
                    out[i] = SequenceOutput.NONE;
                } else if (m.outputsTokenIds()) {
                    out[i] = new SequenceOutput.Sampled(result.getInt(i * 4));
                } else {
                    float[] logits = new float[vocab];
                    result.slice(i * vocab * 4, vocab * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(logits);
                    out[i] = new SequenceOutput.Logits(logits);
                }
            }
        } catch (NrtException e) {
            throw new IllegalStateException("neuron: executing " + b.neff() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            ranks.runAll(device::free);
        } finally {
            ranks.close();
            nrt.close();
        }
    }

    /** The buckets by SPI shape, smallest first (for messages and tests). */
    List<ShapePolicy.Bucket> buckets() {
        return ((ShapePolicy.Bucketed) caps.shapePolicy()).buckets().stream()
                .sorted(Comparator.comparingInt(ShapePolicy.Bucket::numTokens)).toList();
    }
}
