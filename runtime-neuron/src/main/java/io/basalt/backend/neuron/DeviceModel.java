package io.basalt.backend.neuron;

import io.basalt.model.Checkpoint;
import io.basalt.model.layout.LlamaLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a package holds on the device, per rank: the weights (written once), the KV states (allocated once,
 * zeroed), and per bucket the loaded NEFF, its user-input and result tensors and its bound input/output sets. Each
 * state tensor is in a bucket's input set under its {@code name} and in the output set under its {@code alias}, so
 * the graph updates it in place. Rank r works on core r.
 */
final class DeviceModel implements AutoCloseable {
    /** One bucket on one rank. */
    static final class Loaded {
        final Manifest.Bucket bucket;
        Nrt.Model model;
        final Map<String, Nrt.Tensor> user = new HashMap<>();
        Nrt.Tensor result;
        Nrt.TensorSet inputs;
        Nrt.TensorSet outputs;

        Loaded(Manifest.Bucket bucket) { this.bucket = bucket; }
    }

    /** One rank's tensors. */
    static final class Rank {
        final Map<String, Nrt.Tensor> weights = new HashMap<>();
        final Map<String, Nrt.Tensor> states = new HashMap<>();
        final Map<String, Loaded> buckets = new HashMap<>(); // by NEFF file name
        final List<Nrt.Tensor> all = new ArrayList<>();
    }

    private final Nrt nrt;
    private final CompiledPackage pkg;
    final Rank[] ranks;

    /**
     * Copies KV slot {@code source} into slot {@code target} on every rank (a forked sequence: n &gt; 1 shares its
     * prompt). The slot is a state tensor's outermost dimension, so each slot is one contiguous range of bytes.
     */
    void copySlot(int source, int target) {
        int slots = pkg.manifest().kv().maxBatch();
        if (source < 0 || source >= slots || target < 0 || target >= slots) {
            throw new IllegalArgumentException("KV slot copy " + source + " → " + target + " outside the package's " + slots + " slots");
        }
        for (Rank rank : ranks) {
            for (Nrt.Tensor t : rank.states.values()) {
                long slotBytes = t.size() / slots;
                nrt.copy(t, source * slotBytes, t, target * slotBytes, slotBytes);
            }
        }
    }

    DeviceModel(Nrt nrt, CompiledPackage pkg) {
        this.nrt = nrt;
        this.pkg = pkg;
        this.ranks = new Rank[pkg.manifest().tpDegree()];
        for (int r = 0; r < ranks.length; r++) ranks[r] = new Rank();
    }

    /** Loads rank {@code r}: called on that rank's thread. */
    void load(int r, Checkpoint checkpoint, LlamaLayout layout) {
        Manifest m = pkg.manifest();
        Rank rank = ranks[r];
        int tp = m.tpDegree();
        Manifest.Bucket first = m.buckets().getFirst();
        for (Manifest.Input in : first.inputs()) {
            if (in.role().equals(Manifest.Input.WEIGHT)) {
                float[] values = LlamaWeights.shard(checkpoint, layout, in.kind(), in.shardAxis(), r, tp);
                ByteBuffer buf = encode(values, in.dtype());
                Nrt.Tensor t = allocate(rank, r, buf.remaining(), in.kind());
                nrt.write(t, 0, buf);
                rank.weights.put(in.kind(), t);
            } else if (in.role().equals(Manifest.Input.STATE)) {
                long size = BucketLayout.bytes(in.shape(), in.dtype());
                Nrt.Tensor t = allocate(rank, r, size, in.kind());
                zero(t, size);
                rank.states.put(in.kind(), t);
            }
        }
        for (Manifest.Bucket b : m.buckets()) {
            Loaded l = new Loaded(b);
            rank.buckets.put(b.neff(), l);
            ByteBuffer neff = map(pkg.dir().resolve(b.neff()));
            l.model = tp == 1 ? nrt.load(neff, r) : nrt.loadCollectives(neff, r, r, tp);
            checkTensorInfo(b, nrt.tensorInfo(l.model));
            l.inputs = nrt.newTensorSet();
            l.outputs = nrt.newTensorSet();
            for (Manifest.Input in : b.inputs()) {
                Nrt.Tensor t = switch (in.role()) {
                    case Manifest.Input.WEIGHT -> rank.weights.get(in.kind());
                    case Manifest.Input.STATE -> rank.states.get(in.kind());
                    default -> {
                        Nrt.Tensor u = allocate(rank, r, BucketLayout.bytes(in.shape(), in.dtype()), b.neff() + ":" + in.kind());
                        l.user.put(in.kind(), u);
                        yield u;
                    }
                };
                nrt.add(l.inputs, in.name(), t);
                if (in.alias() != null) nrt.add(l.outputs, in.alias(), t);
            }
            for (Manifest.Output o : b.outputs()) {
                if (o.kind().equals(m.output())) {
                    l.result = allocate(rank, r, BucketLayout.bytes(o.shape(), o.dtype()), b.neff() + ":" + o.kind());
                    nrt.add(l.outputs, o.name(), l.result);
                }
            }
        }
    }

    /** The NEFF's own inputs and outputs must be the manifest's, by name and byte size. */
    private void checkTensorInfo(Manifest.Bucket b, List<Nrt.TensorInfo> infos) {
        Map<String, Long> want = new HashMap<>();
        for (Manifest.Input in : b.inputs()) want.put(in.name(), BucketLayout.bytes(in.shape(), in.dtype()));
        for (Manifest.Output o : b.outputs()) want.put(o.name(), BucketLayout.bytes(o.shape(), o.dtype()));
        for (Nrt.TensorInfo t : infos) {
            Long size = want.remove(t.name());
            if (size == null || size != t.size()) {
                throw new PackageException(pkg.dir().resolve(b.neff()) + ": the NEFF's " + (t.input() ? "input " : "output ") + t.name() + " ("
                        + t.size() + " bytes) " + (size == null ? "is not in manifest.json" : "is " + size + " bytes in manifest.json"));
            }
        }
        if (!want.isEmpty()) throw new PackageException(pkg.dir().resolve(b.neff()) + ": manifest.json names " + want.keySet() + ", which the NEFF does not have");
    }

    private Nrt.Tensor allocate(Rank rank, int vnc, long size, String name) {
        Nrt.Tensor t = nrt.allocate(vnc, size, name);
        rank.all.add(t);
        return t;
    }

    private void zero(Nrt.Tensor t, long size) {
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(size, 1 << 20));
        for (long off = 0; off < size; off += zeros.capacity()) {
            ByteBuffer chunk = zeros.duplicate().limit((int) Math.min(zeros.capacity(), size - off));
            nrt.write(t, off, chunk);
        }
    }

    private static ByteBuffer map(Path neff) {
        try (FileChannel ch = FileChannel.open(neff, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
        } catch (IOException e) {
            throw new PackageException(neff + ": cannot map: " + e.getMessage(), e);
        }
    }

    /** fp32 values as the manifest dtype, little-endian, in a direct buffer: f32, or bf16 rounded to nearest even. */
    static ByteBuffer encode(float[] values, String dtype) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * BucketLayout.elementBytes(dtype)).order(ByteOrder.LITTLE_ENDIAN);
        if (dtype.equals("f32")) {
            for (float v : values) b.putFloat(v);
        } else if (dtype.equals("bf16")) {
            for (float v : values) b.putShort(bf16(v));
        } else {
            throw new IllegalArgumentException("weights cannot be " + dtype);
        }
        return b.flip();
    }

    /** bfloat16 bits of {@code v}, rounded to nearest even; NaN stays a (quiet) NaN. */
    static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Frees everything of rank r: sets, tensors, models (each once, in that order). */
    void free(int r) {
        Rank rank = ranks[r];
        RuntimeException first = null;
        for (Loaded l : rank.buckets.values()) {
            first = attempt(first, () -> { if (l.inputs != null) nrt.destroy(l.inputs); });
            first = attempt(first, () -> { if (l.outputs != null) nrt.destroy(l.outputs); });
        }
        for (Nrt.Tensor t : rank.all) first = attempt(first, () -> nrt.free(t));
        for (Loaded l : rank.buckets.values()) first = attempt(first, () -> { if (l.model != null) nrt.unload(l.model); });
        rank.all.clear();
        rank.buckets.clear();
        if (first != null) throw first;
    }

    private static RuntimeException attempt(RuntimeException first, Runnable r) {
        try {
            r.run();
            return first;
        } catch (RuntimeException e) {
            return first == null ? e : first;
        }
    }

    @Override
    public void close() {
        for (int r = 0; r < ranks.length; r++) free(r);
    }
}
