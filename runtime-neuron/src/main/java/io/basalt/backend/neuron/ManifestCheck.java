package io.basalt.backend.neuron;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The manifest's consistency checks, after the field types: the architecture, tp against the head counts, bucket
 * sizes against the KV slots, and every bucket's inputs and outputs against {@link BucketLayout} (the kinds the runner
 * needs, per-rank shapes, dtypes, shards, state aliases).
 */
final class ManifestCheck {
    private ManifestCheck() {}

    static void check(String file, Manifest m) {
        Manifest.Config c = m.checkpoint().config();
        if (!"llama".equals(m.checkpoint().architecture())) {
            throw new PackageException(file + ": checkpoint.architecture: '" + m.checkpoint().architecture()
                    + "' is not supported by the neuron backend (supported: llama)");
        }
        if (c.hiddenSize() % c.numHeads() != 0) throw bad(file, "checkpoint.config.num_heads", c.numHeads() + " does not divide hidden_size " + c.hiddenSize());
        if (c.numHeads() % c.numKvHeads() != 0) throw bad(file, "checkpoint.config.num_kv_heads", c.numKvHeads() + " does not divide num_heads " + c.numHeads());
        int tp = m.tpDegree();
        if (c.numHeads() % tp != 0 || c.numKvHeads() % tp != 0 || c.intermediateSize() % tp != 0) {
            throw bad(file, "tp_degree", tp + " must divide num_heads " + c.numHeads() + ", num_kv_heads " + c.numKvHeads()
                    + " and intermediate_size " + c.intermediateSize());
        }
        if (m.buckets().stream().noneMatch(Manifest.Bucket::isPrefill) || m.buckets().stream().allMatch(Manifest.Bucket::isPrefill)) {
            throw bad(file, "buckets", "expected at least one prefill and one decode bucket");
        }
        Set<String> neffs = new HashSet<>();
        Set<List<Integer>> shapes = new HashSet<>();
        for (int i = 0; i < m.buckets().size(); i++) {
            Manifest.Bucket b = m.buckets().get(i);
            String p = "buckets[" + i + "]";
            if (!neffs.add(b.neff())) throw bad(file, p + ".neff", "\"" + b.neff() + "\" is named by an earlier bucket too");
            if (!shapes.add(List.of(b.isPrefill() ? 0 : 1, b.batch(), b.length(), b.kvLength()))) {
                throw bad(file, p, "a second " + b.tag() + " bucket of batch " + b.batch() + ", length " + b.length() + ", kv_length " + b.kvLength());
            }
            if (b.batch() > m.kv().maxBatch()) throw bad(file, p + ".batch", b.batch() + " exceeds kv.max_batch " + m.kv().maxBatch());
            if (b.isPrefill()) {
                if (b.length() < 2) throw bad(file, p + ".length", "a prefill bucket needs at least 2 tokens (1 is a decode bucket), got " + b.length());
                if (b.kvLength() != b.length()) throw bad(file, p + ".kv_length", "a prefill bucket's kv_length is its length " + b.length() + ", got " + b.kvLength());
                if (b.length() > m.kv().maxLength()) throw bad(file, p + ".length", b.length() + " exceeds kv.max_length " + m.kv().maxLength());
            } else {
                if (b.length() != 1) throw bad(file, p + ".length", "a decode bucket has length 1, got " + b.length());
                if (b.kvLength() > m.kv().maxLength()) throw bad(file, p + ".kv_length", b.kvLength() + " exceeds kv.max_length " + m.kv().maxLength());
            }
            tensors(file, m, b, p);
        }
    }

    private static void tensors(String file, Manifest m, Manifest.Bucket b, String p) {
        int layers = m.checkpoint().config().numLayers();
        Map<String, Manifest.Output> outputs = new HashMap<>();
        Set<String> outKinds = new HashSet<>();
        for (int j = 0; j < b.outputs().size(); j++) {
            Manifest.Output o = b.outputs().get(j);
            String q = p + ".outputs[" + j + "]";
            if (outputs.put(o.name(), o) != null) throw bad(file, q + ".name", "\"" + o.name() + "\" appears twice");
            if (!outKinds.add(o.kind())) throw bad(file, q + ".kind", "\"" + o.kind() + "\" appears twice");
            BucketLayout.Slot s = BucketLayout.slot(m, b, o.kind());
            boolean result = o.kind().equals(m.output());
            if (s == null || !(result || Manifest.Input.STATE.equals(s.role()))) {
                throw bad(file, q + ".kind", "\"" + o.kind() + "\" is not an output of a package with output " + m.output()
                        + " (expected " + m.output() + " and the KV states)");
            }
            same(file, q, o.kind(), o.shape(), o.dtype(), s);
        }
        if (!outKinds.contains(m.output())) throw bad(file, p + ".outputs", "no " + m.output() + " output");
        Set<String> names = new HashSet<>();
        Set<String> kinds = new HashSet<>();
        for (int j = 0; j < b.inputs().size(); j++) {
            Manifest.Input in = b.inputs().get(j);
            String q = p + ".inputs[" + j + "]";
            if (!names.add(in.name())) throw bad(file, q + ".name", "\"" + in.name() + "\" appears twice");
            if (!kinds.add(in.kind())) throw bad(file, q + ".kind", "\"" + in.kind() + "\" appears twice");
            BucketLayout.Slot s = BucketLayout.slot(m, b, in.kind());
            if (s == null || "output".equals(s.role())) throw bad(file, q + ".kind", "unknown input kind \"" + in.kind() + "\"");
            if (!s.role().equals(in.role())) throw bad(file, q + ".role", "\"" + in.kind() + "\" is a " + s.role() + " input, got " + in.role());
            same(file, q, in.kind(), in.shape(), in.dtype(), s);
            if (!java.util.Objects.equals(s.shardAxis(), in.shardAxis())) {
                throw bad(file, q + ".shard", "\"" + in.kind() + "\" with tp_degree " + m.tpDegree() + " is "
                        + (s.shardAxis() == null ? "replicated (no shard)" : "sharded on axis " + s.shardAxis())
                        + ", got " + (in.shardAxis() == null ? "no shard" : "axis " + in.shardAxis()));
            }
            if (Manifest.Input.STATE.equals(in.role())) {
                Manifest.Output o = outputs.get(in.alias());
                if (o == null) throw bad(file, q + ".alias", "\"" + in.alias() + "\" is not an output of this bucket");
                if (!o.kind().equals(in.kind())) throw bad(file, q + ".alias", "\"" + in.alias() + "\" is the output " + o.kind() + ", not " + in.kind());
            }
        }
        Set<String> needed = new LinkedHashSet<>(BucketLayout.userKinds(m.outputsTokenIds()));
        needed.addAll(BucketLayout.weightKinds(layers));
        needed.addAll(BucketLayout.stateKinds(layers));
        needed.removeAll(kinds);
        if (!needed.isEmpty()) throw bad(file, p + ".inputs", "missing input kinds the runner needs: " + String.join(", ", needed));
        Set<String> states = new HashSet<>(BucketLayout.stateKinds(layers));
        states.removeAll(outKinds);
        if (!states.isEmpty()) throw bad(file, p + ".outputs", "missing state outputs: " + String.join(", ", states));
    }

    private static void same(String file, String q, String kind, long[] shape, String dtype, BucketLayout.Slot s) {
        if (!Arrays.equals(shape, s.shape())) {
            throw bad(file, q + ".shape", Arrays.toString(shape) + " but " + kind + " needs " + Arrays.toString(s.shape())
                    + " (from checkpoint.config, tp_degree, kv and the bucket)");
        }
        if (!dtype.equals(s.dtype())) throw bad(file, q + ".dtype", kind + " is " + s.dtype() + " in this package, got " + dtype);
    }

    private static PackageException bad(String file, String path, String what) {
        return new PackageException(file + ": " + path + ": " + what);
    }
}
