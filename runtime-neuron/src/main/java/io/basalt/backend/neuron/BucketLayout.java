package io.basalt.backend.neuron;

import java.util.ArrayList;
import java.util.List;

/**
 * The inputs and outputs a bucket's graph has, by kind, with their per-rank shapes (docs/NEURON.md §3 "Kinds"). The
 * stand-in compiler writes exactly these and the manifest reader checks a package against them, so the two cannot
 * drift apart.
 */
final class BucketLayout {
    private BucketLayout() {}

    static final List<String> USER_KINDS = List.of("input_ids", "attention_mask", "position_ids", "seq_ids", "sampling_params");
    private static final List<String> LAYER_WEIGHTS = List.of("attn_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w_gate", "w_up", "w_down");

    /** What one kind is: its per-rank shape, dtype and shard axis (null: replicated / not a weight). */
    record Slot(String role, long[] shape, String dtype, Integer shardAxis) { }

    /** The weight kinds of a model, in NEFF order. */
    static List<String> weightKinds(int numLayers) {
        List<String> kinds = new ArrayList<>();
        kinds.add("tok_embeddings");
        for (int l = 0; l < numLayers; l++) {
            for (String w : LAYER_WEIGHTS) kinds.add("layer." + l + "." + w);
        }
        kinds.add("final_norm");
        kinds.add("lm_head");
        return kinds;
    }

    static List<String> stateKinds(int numLayers) {
        List<String> kinds = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            kinds.add("layer." + l + ".k_cache");
            kinds.add("layer." + l + ".v_cache");
        }
        return kinds;
    }

    /** The user inputs a bucket needs: sampling parameters only when the graph samples. */
    static List<String> userKinds(boolean tokenIds) {
        return tokenIds ? USER_KINDS : USER_KINDS.subList(0, 4);
    }

    /** The kind's slot in a bucket of this package, or null for an unknown kind. */
    static Slot slot(Manifest m, Manifest.Bucket b, String kind) {
        Manifest.Config c = m.checkpoint().config();
        int tp = m.tpDegree();
        long batch = b.batch();
        long len = b.isPrefill() ? b.length() : 1;
        long k = b.isPrefill() ? b.length() : b.kvLength();
        long d = c.hiddenSize();
        long hd = c.headDim();
        String w = m.weightDtype();
        switch (kind) {
            case "input_ids", "position_ids": return new Slot(Manifest.Input.USER, new long[] {batch, len}, "int32", null);
            case "attention_mask": return new Slot(Manifest.Input.USER, new long[] {batch, k}, "int32", null);
            case "seq_ids": return new Slot(Manifest.Input.USER, new long[] {batch}, "int32", null);
            case "sampling_params": return new Slot(Manifest.Input.USER, new long[] {batch, 3}, "f32", null);
            case "logits": return new Slot("output", new long[] {batch, c.vocabSize()}, "f32", null);
            case "token_ids": return new Slot("output", new long[] {batch}, "int32", null);
            case "tok_embeddings", "lm_head": return new Slot(Manifest.Input.WEIGHT, new long[] {c.vocabSize(), d}, w, null);
            case "final_norm": return new Slot(Manifest.Input.WEIGHT, new long[] {d}, w, null);
            default: break;
        }
        if (!kind.startsWith("layer.")) return null;
        int dot = kind.indexOf('.', 6);
        if (dot < 0) return null;
        int layer;
        try {
            layer = Integer.parseInt(kind.substring(6, dot));
        } catch (NumberFormatException e) {
            return null;
        }
        if (layer < 0 || layer >= c.numLayers()) return null;
        long q = (long) c.numHeads() * hd / tp;
        long kv = (long) c.numKvHeads() * hd / tp;
        long f = c.intermediateSize() / tp;
        return switch (kind.substring(dot + 1)) {
            case "attn_norm", "ffn_norm" -> new Slot(Manifest.Input.WEIGHT, new long[] {d}, w, null);
            case "wq" -> new Slot(Manifest.Input.WEIGHT, new long[] {q, d}, w, tp > 1 ? 0 : null);
            case "wk", "wv" -> new Slot(Manifest.Input.WEIGHT, new long[] {kv, d}, w, tp > 1 ? 0 : null);
            case "wo" -> new Slot(Manifest.Input.WEIGHT, new long[] {d, q}, w, tp > 1 ? 1 : null);
            case "w_gate", "w_up" -> new Slot(Manifest.Input.WEIGHT, new long[] {f, d}, w, tp > 1 ? 0 : null);
            case "w_down" -> new Slot(Manifest.Input.WEIGHT, new long[] {d, f}, w, tp > 1 ? 1 : null);
            case "k_cache", "v_cache" -> new Slot(Manifest.Input.STATE,
                    new long[] {m.kv().maxBatch(), c.numKvHeads() / tp, m.kv().maxLength(), hd}, m.kv().dtype(), null);
            default -> null;
        };
    }

    /** Bytes of one element of a manifest dtype. */
    static int elementBytes(String dtype) {
        return switch (dtype) {
            case "f32", "int32" -> 4;
            case "bf16" -> 2;
            default -> throw new IllegalArgumentException("unknown dtype '" + dtype + "'");
        };
    }

    static long bytes(long[] shape, String dtype) {
        long n = elementBytes(dtype);
        for (long s : shape) n = Math.multiplyExact(n, s);
        return n;
    }
}
