package io.basalt.backend.neuron;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Test-only writer of stand-in NEFFs (docs/NEURON.md §4): the 1024-byte header of HARDWARE.md §1.8 and the graph
 * description. Written independently of the production StandinCompiler on purpose, so the two check each other.
 */
final class StandinNeff {

    /** The graph settings, in the description's order. */
    record Graph(String kind, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab,
                 float rmsEps, float ropeTheta, int rotaryDims, String ropeStyle, int batch, int length, int kvLength,
                 int maxBatch, int maxLength, int tp, String weightDtype, String output) {

        /** 2 layers, hidden 8, 4 heads over 2 KV heads of 4, FFN 12, vocab 16: small, yet GQA and tp 2 both apply. */
        static Graph tiny(String kind, int batch, int length, int kvLength, int tp) {
            return new Graph(kind, 2, 8, 4, 2, 4, 12, 16, 1e-5f, 10000f, 4, "interleaved", batch, length, kvLength,
                    2, 8, tp, "f32", "logits");
        }

        Graph withRopeStyle(String style) {
            return new Graph(kind, layers, hidden, heads, kvHeads, headDim, ffn, vocab, rmsEps, ropeTheta, rotaryDims,
                    style, batch, length, kvLength, maxBatch, maxLength, tp, weightDtype, output);
        }

        Graph withWeightDtype(String dtype) {
            return new Graph(kind, layers, hidden, heads, kvHeads, headDim, ffn, vocab, rmsEps, ropeTheta, rotaryDims,
                    ropeStyle, batch, length, kvLength, maxBatch, maxLength, tp, dtype, output);
        }

        Graph withOutput(String out) {
            return new Graph(kind, layers, hidden, heads, kvHeads, headDim, ffn, vocab, rmsEps, ropeTheta, rotaryDims,
                    ropeStyle, batch, length, kvLength, maxBatch, maxLength, tp, weightDtype, out);
        }
    }

    /** One tensor line: NEFF name, direction, dtype, per-rank shape, kind, alias (or null). */
    record Spec(String name, boolean input, String dtype, long[] shape, String kind, String alias) {
        long bytes() {
            return Arrays.stream(shape).reduce(1, (a, b) -> a * b) * (dtype.equals("bf16") ? 2 : 4);
        }
    }

    private StandinNeff() { }

    /** The tensors of a graph in NEFF order: user inputs, weights, states, then outputs. */
    static List<Spec> specs(Graph g) {
        List<Spec> in = new ArrayList<>();
        List<Spec> out = new ArrayList<>();
        int b = g.batch, d = g.hidden, hd = g.headDim, hr = g.heads / g.tp, kvr = g.kvHeads / g.tp, fr = g.ffn / g.tp;
        String w = g.weightDtype;
        out.add(g.output.equals("logits") ? new Spec("output0", false, "f32", new long[] {b, g.vocab}, "logits", null)
                : new Spec("output0", false, "int32", new long[] {b}, "token_ids", null));
        add(in, "int32", "input_ids", b, g.length);
        add(in, "int32", "attention_mask", b, g.kvLength);
        add(in, "int32", "position_ids", b, g.length);
        add(in, "int32", "seq_ids", b);
        if (g.output.equals("token_ids")) add(in, "f32", "sampling_params", b, 3);
        add(in, w, "tok_embeddings", g.vocab, d);
        for (int l = 0; l < g.layers; l++) {
            String p = "layer." + l + ".";
            add(in, w, p + "attn_norm", d);
            add(in, w, p + "wq", hr * hd, d);
            add(in, w, p + "wk", kvr * hd, d);
            add(in, w, p + "wv", kvr * hd, d);
            add(in, w, p + "wo", d, hr * hd);
            add(in, w, p + "ffn_norm", d);
            add(in, w, p + "w_gate", fr, d);
            add(in, w, p + "w_up", fr, d);
            add(in, w, p + "w_down", d, fr);
        }
        add(in, w, "final_norm", d);
        add(in, w, "lm_head", g.vocab, d);
        for (int l = 0; l < g.layers; l++) {
            for (String cache : new String[] {"k_cache", "v_cache"}) {
                String kind = "layer." + l + "." + cache;
                long[] shape = {g.maxBatch, kvr, g.maxLength, hd};
                String outName = "output" + out.size();
                in.add(new Spec("input" + in.size(), true, "f32", shape, kind, outName));
                out.add(new Spec(outName, false, "f32", shape, kind, null));
            }
        }
        List<Spec> all = new ArrayList<>(in);
        all.addAll(out);
        return all;
    }

    private static void add(List<Spec> in, String dtype, String kind, long... shape) {
        in.add(new Spec("input" + in.size(), true, dtype, shape, kind, null));
    }

    static String description(Graph g) {
        StringBuilder s = new StringBuilder("basalt-standin-graph 1\n");
        s.append("kind ").append(g.kind).append('\n').append("arch llama\n");
        line(s, "layers", g.layers);
        line(s, "hidden", g.hidden);
        line(s, "heads", g.heads);
        line(s, "kv_heads", g.kvHeads);
        line(s, "head_dim", g.headDim);
        line(s, "ffn", g.ffn);
        line(s, "vocab", g.vocab);
        line(s, "rms_eps", g.rmsEps);
        line(s, "rope_theta", g.ropeTheta);
        line(s, "rotary_dims", g.rotaryDims);
        line(s, "rope_style", g.ropeStyle);
        line(s, "batch", g.batch);
        line(s, "length", g.length);
        line(s, "kv_length", g.kvLength);
        line(s, "max_batch", g.maxBatch);
        line(s, "max_length", g.maxLength);
        line(s, "tp_world", g.tp);
        line(s, "weight_dtype", g.weightDtype);
        line(s, "output", g.output);
        for (Spec t : specs(g)) {
            s.append("tensor ").append(t.name).append(t.input ? " in " : " out ").append(t.dtype).append(' ');
            for (int i = 0; i < t.shape.length; i++) s.append(i == 0 ? "" : ",").append(t.shape[i]);
            s.append(' ').append(t.kind);
            if (t.alias != null) s.append(" alias=").append(t.alias);
            s.append('\n');
        }
        return s.toString();
    }

    private static void line(StringBuilder s, String key, Object value) {
        s.append(key).append(' ').append(value).append('\n');
    }

    /** A whole NEFF file: header (HARDWARE.md §1.8) + data. */
    static byte[] neff(String name, String description) {
        byte[] data = description.getBytes(StandardCharsets.UTF_8);
        ByteBuffer h = ByteBuffer.allocate(1024 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(0, 1);                 // pkg_version
        h.putLong(8, 1024);              // header_size
        h.putLong(16, data.length);      // data_size
        h.putLong(24, 2);                // neff_version_major
        h.putLong(32, 0);                // neff_version_minor
        h.put(40, "basalt-standin".getBytes(StandardCharsets.US_ASCII));
        h.putInt(168, 1);                // num_tpb
        byte[] hash = sha256(data);
        h.put(172, hash);
        h.put(204, hash, 0, 16);         // uuid: any stable 16 bytes
        h.put(220, name.getBytes(StandardCharsets.UTF_8));
        h.putInt(476, 1);                // requested_tpb_count
        h.putInt(552, 1);                // lnc_size
        h.put(1024, data);
        return h.array();
    }

    static byte[] neff(String name, Graph g) {
        return neff(name, description(g));
    }

    static ByteBuffer direct(byte[] bytes) {
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
