package io.basalt.backend.neuron;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The stand-in's forward pass against a plain Java Llama written here (fp32, tokens one at a time): prefill, decode
 * reusing the KV cache, a chunked prefill whose padding row repeats the real one; tp 1 and tp 2 give the same logits.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NrtStandinNumericsTest {
    private static final float TOLERANCE = 1e-5f;

    /** Full (unsharded) weights by kind, [rows, cols] row-major. */
    private static Map<String, float[]> weights(StandinNeff.Graph g, long seed) {
        Random r = new Random(seed);
        Map<String, float[]> w = new HashMap<>();
        int d = g.hidden(), hd = g.headDim();
        w.put("tok_embeddings", random(r, g.vocab() * d, 1f));
        for (int l = 0; l < g.layers(); l++) {
            String p = "layer." + l + ".";
            w.put(p + "attn_norm", norm(r, d));
            w.put(p + "wq", random(r, g.heads() * hd * d, 0.5f));
            w.put(p + "wk", random(r, g.kvHeads() * hd * d, 0.5f));
            w.put(p + "wv", random(r, g.kvHeads() * hd * d, 0.5f));
            w.put(p + "wo", random(r, d * g.heads() * hd, 0.5f));
            w.put(p + "ffn_norm", norm(r, d));
            w.put(p + "w_gate", random(r, g.ffn() * d, 0.5f));
            w.put(p + "w_up", random(r, g.ffn() * d, 0.5f));
            w.put(p + "w_down", random(r, d * g.ffn(), 0.5f));
        }
        w.put("final_norm", norm(r, d));
        w.put("lm_head", random(r, g.vocab() * d, 0.5f));
        return w;
    }

    private static float[] random(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (r.nextFloat() * 2 - 1) * scale;
        return a;
    }

    private static float[] norm(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = 0.5f + r.nextFloat();
        return a;
    }

    /** Rank r's part of a weight (NEURON.md §3 "shard"): rows for column-parallel, columns for row-parallel. */
    private static float[] shard(String kind, float[] full, StandinNeff.Graph g, int rank) {
        int tp = g.tp();
        if (tp == 1) return full;
        String name = kind.substring(kind.lastIndexOf('.') + 1);
        int d = g.hidden();
        switch (name) {
            case "wq", "wk", "wv", "w_gate", "w_up" -> {
                int rows = full.length / d / tp;
                float[] part = new float[rows * d];
                System.arraycopy(full, rank * rows * d, part, 0, rows * d);
                return part;
            }
            case "wo", "w_down" -> {
                int cols = full.length / d, c = cols / tp;
                float[] part = new float[d * c];
                for (int row = 0; row < d; row++) System.arraycopy(full, row * cols + rank * c, part, row * c, c);
                return part;
            }
            default -> { return full; }
        }
    }

    /** A plain Llama over one token at a time, with its own KV cache [layer][slot][kv head][position][hd]. */
    private static final class Reference {
        final StandinNeff.Graph g;
        final Map<String, float[]> w;
        final float[][][][][] k;
        final float[][][][][] v;

        Reference(StandinNeff.Graph g, Map<String, float[]> w) {
            this.g = g;
            this.w = w;
            k = new float[g.layers()][g.maxBatch()][g.kvHeads()][g.maxLength()][g.headDim()];
            v = new float[g.layers()][g.maxBatch()][g.kvHeads()][g.maxLength()][g.headDim()];
        }

        float[] token(int slot, int id, int pos) {
            int d = g.hidden(), hd = g.headDim(), h = g.heads(), kvh = g.kvHeads(), f = g.ffn();
            float[] x = new float[d];
            System.arraycopy(w.get("tok_embeddings"), id * d, x, 0, d);
            for (int l = 0; l < g.layers(); l++) {
                String p = "layer." + l + ".";
                float[] t = rms(x, w.get(p + "attn_norm"));
                float[] q = mat(w.get(p + "wq"), h * hd, d, t);
                float[] kk = mat(w.get(p + "wk"), kvh * hd, d, t);
                float[] vv = mat(w.get(p + "wv"), kvh * hd, d, t);
                rope(q, h, pos);
                rope(kk, kvh, pos);
                for (int j = 0; j < kvh; j++) {
                    System.arraycopy(kk, j * hd, k[l][slot][j][pos], 0, hd);
                    System.arraycopy(vv, j * hd, v[l][slot][j][pos], 0, hd);
                }
                float[] att = new float[h * hd];
                float scale = (float) (1 / Math.sqrt(hd));
                for (int head = 0; head < h; head++) {
                    int kv = head / (h / kvh);
                    float[] s = new float[pos + 1];
                    float max = Float.NEGATIVE_INFINITY, total = 0;
                    for (int j = 0; j <= pos; j++) {
                        float dot = 0;
                        for (int e = 0; e < hd; e++) dot += q[head * hd + e] * k[l][slot][kv][j][e];
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    for (int j = 0; j <= pos; j++) { s[j] = (float) Math.exp(s[j] - max); total += s[j]; }
                    for (int j = 0; j <= pos; j++) {
                        for (int e = 0; e < hd; e++) att[head * hd + e] += s[j] / total * v[l][slot][kv][j][e];
                    }
                }
                float[] o = mat(w.get(p + "wo"), d, h * hd, att);
                for (int i = 0; i < d; i++) x[i] += o[i];
                t = rms(x, w.get(p + "ffn_norm"));
                float[] gate = mat(w.get(p + "w_gate"), f, d, t), up = mat(w.get(p + "w_up"), f, d, t);
                for (int i = 0; i < f; i++) gate[i] = (float) (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
                float[] down = mat(w.get(p + "w_down"), d, f, gate);
                for (int i = 0; i < d; i++) x[i] += down[i];
            }
            return mat(w.get("lm_head"), g.vocab(), d, rms(x, w.get("final_norm")));
        }

        float[] rms(float[] x, float[] weight) {
            float ss = 0;
            for (float e : x) ss += e * e;
            float inv = (float) (1 / Math.sqrt(ss / x.length + g.rmsEps()));
            float[] out = new float[x.length];
            for (int i = 0; i < x.length; i++) out[i] = x[i] * inv * weight[i];
            return out;
        }

        static float[] mat(float[] m, int rows, int cols, float[] x) {
            float[] out = new float[rows];
            for (int r = 0; r < rows; r++) {
                float s = 0;
                for (int c = 0; c < cols; c++) s += m[r * cols + c] * x[c];
                out[r] = s;
            }
            return out;
        }

        void rope(float[] vec, int heads, int pos) {
            int rd = g.rotaryDims(), half = rd / 2;
            boolean split = g.ropeStyle().equals("half");
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(g.ropeTheta(), -2.0 * i / rd);
                float c = (float) Math.cos(angle), s = (float) Math.sin(angle);
                for (int head = 0; head < heads; head++) {
                    int a = head * g.headDim() + (split ? i : 2 * i), b = head * g.headDim() + (split ? i + half : 2 * i + 1);
                    float x0 = vec[a], x1 = vec[b];
                    vec[a] = x0 * c - x1 * s;
                    vec[b] = x0 * s + x1 * c;
                }
            }
        }
    }

    /** Prefill (b2 l4) and decode (b2 k8) graphs on every rank, sharing weights and caches per rank. */
    private static final class Stack implements AutoCloseable {
        final Nrt nrt = Nrt.open(null);
        final List<StandinRank> prefill = new ArrayList<>();
        final List<StandinRank> decode = new ArrayList<>();
        final ExecutorService threads;

        final String dtype;

        Stack(int tp, String ropeStyle, Map<String, float[]> full) {
            this(tp, ropeStyle, "f32", full);
        }

        Stack(int tp, String ropeStyle, String dtype, Map<String, float[]> full) {
            this.dtype = dtype;
            threads = Executors.newFixedThreadPool(tp);
            try {
                setUp(tp, ropeStyle, full);
            } catch (RuntimeException e) {
                close(); // the stand-in is per process: a leaked init would fail every later test
                throw e;
            }
        }

        private void setUp(int tp, String ropeStyle, Map<String, float[]> full) {
            nrt.init();
            StandinNeff.Graph pg = StandinNeff.Graph.tiny("prefill", 2, 4, 4, tp).withRopeStyle(ropeStyle).withWeightDtype(dtype);
            StandinNeff.Graph dg = StandinNeff.Graph.tiny("decode", 2, 1, 8, tp).withRopeStyle(ropeStyle).withWeightDtype(dtype);
            byte[] pn = StandinNeff.neff("prefill_b2_l4", pg), dn = StandinNeff.neff("decode_b2_k8", dg);
            for (int r = 0; r < tp; r++) {
                Map<String, Nrt.Tensor> shared = new HashMap<>();
                prefill.add(new StandinRank(nrt, load(pn, r, tp), StandinNeff.specs(pg), r, shared));
                decode.add(new StandinRank(nrt, load(dn, r, tp), StandinNeff.specs(dg), r, shared));
                for (Map.Entry<String, Nrt.Tensor> e : shared.entrySet()) {
                    float[] wt = full.get(e.getKey());
                    if (wt == null) continue;
                    float[] part = shard(e.getKey(), wt, pg, r);
                    nrt.write(e.getValue(), 0, dtype.equals("bf16") ? bf16Bits(part) : StandinRank.floats(part));
                }
            }
        }

        private Nrt.Model load(byte[] neff, int rank, int tp) {
            return tp == 1 ? nrt.load(StandinNeff.direct(neff), 0) : nrt.loadCollectives(StandinNeff.direct(neff), rank, rank, tp);
        }

        /** Every rank executes at once (one thread each), as collectives require; returns each rank's logits. */
        List<float[]> run(List<StandinRank> graph) throws Exception {
            List<Future<float[]>> done = new ArrayList<>();
            for (StandinRank rank : graph) {
                done.add(threads.submit(() -> {
                    rank.execute();
                    return rank.readFloats("logits");
                }));
            }
            List<float[]> out = new ArrayList<>();
            for (Future<float[]> f : done) out.add(f.get(30, TimeUnit.SECONDS));
            return out;
        }

        @Override
        public void close() {
            threads.shutdownNow();
            nrt.close();
        }
    }

    private static void assertRow(float[] expected, float[] logits, int row, String what) {
        int vocab = expected.length;
        for (int i = 0; i < vocab; i++) {
            assertEquals(expected[i], logits[row * vocab + i], TOLERANCE, what + ": logit " + i + " of row " + row);
        }
    }

    @ParameterizedTest(name = "tp {0}, rope {1}")
    @CsvSource({"1, interleaved", "2, interleaved", "1, half", "2, half"})
    void prefillThenDecodeThenChunkedPrefillMatchTheReference(int tp, String rope) throws Exception {
        StandinNeff.Graph g = StandinNeff.Graph.tiny("prefill", 2, 4, 4, tp).withRopeStyle(rope);
        Map<String, float[]> full = weights(g, 42);
        Reference ref = new Reference(g, full);
        try (Stack s = new Stack(tp, rope, full)) {
            // Prefill: row 0 has 3 real tokens in slot 1, row 1 has 4 in slot 0.
            for (StandinRank r : s.prefill) {
                r.writeInts("input_ids", 3, 5, 7, 0, 2, 9, 11, 4);
                r.writeInts("attention_mask", 1, 1, 1, 0, 1, 1, 1, 1);
                r.writeInts("position_ids", 0, 1, 2, 3, 0, 1, 2, 3);
                r.writeInts("seq_ids", 1, 0);
            }
            List<float[]> logits = s.run(s.prefill);
            float[] row0 = null, row1 = null;
            for (int t = 0; t < 3; t++) row0 = ref.token(1, new int[] {3, 5, 7}[t], t);
            for (int t = 0; t < 4; t++) row1 = ref.token(0, new int[] {2, 9, 11, 4}[t], t);
            for (float[] l : logits) {
                assertRow(row0, l, 0, "prefill");
                assertRow(row1, l, 1, "prefill");
            }
            assertIdenticalAcrossRanks(logits);

            // Decode: each row's next token, reading the cache the prefill wrote.
            for (StandinRank r : s.decode) {
                r.writeInts("input_ids", 6, 1);
                r.writeInts("attention_mask", 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0);
                r.writeInts("position_ids", 3, 4);
                r.writeInts("seq_ids", 1, 0);
            }
            logits = s.run(s.decode);
            row0 = ref.token(1, 6, 3);
            row1 = ref.token(0, 1, 4);
            for (float[] l : logits) {
                assertRow(row0, l, 0, "decode");
                assertRow(row1, l, 1, "decode");
            }
            assertIdenticalAcrossRanks(logits);

            // Chunked prefill of slot 1 at positions 4..5; row 1 is padding and repeats row 0 exactly.
            for (StandinRank r : s.prefill) {
                r.writeInts("input_ids", 8, 12, 0, 0, 8, 12, 0, 0);
                r.writeInts("attention_mask", 1, 1, 0, 0, 1, 1, 0, 0);
                r.writeInts("position_ids", 4, 5, 6, 7, 4, 5, 6, 7);
                r.writeInts("seq_ids", 1, 1);
            }
            logits = s.run(s.prefill);
            ref.token(1, 8, 4);
            row0 = ref.token(1, 12, 5);
            for (float[] l : logits) {
                assertRow(row0, l, 0, "chunked prefill");
                assertRow(row0, l, 1, "chunked prefill padding row");
            }
        }
    }

    /** The top 16 bits of each float: exact for values already rounded by {@link #toBf16}. */
    private static java.nio.ByteBuffer bf16Bits(float[] values) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(values.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i++) b.putShort(i * 2, (short) (Float.floatToRawIntBits(values[i]) >>> 16));
        return b;
    }

    private static Map<String, float[]> toBf16(Map<String, float[]> full) {
        Map<String, float[]> out = new HashMap<>();
        full.forEach((k, v) -> {
            float[] r = new float[v.length];
            for (int i = 0; i < v.length; i++) r[i] = Float.intBitsToFloat(Float.floatToRawIntBits(v[i]) & 0xffff0000);
            out.put(k, r);
        });
        return out;
    }

    @Test
    void bf16WeightsAreWidenedExactly() throws Exception {
        StandinNeff.Graph g = StandinNeff.Graph.tiny("prefill", 2, 4, 4, 2);
        Map<String, float[]> full = toBf16(weights(g, 99));
        Reference ref = new Reference(g, full);
        try (Stack s = new Stack(2, "interleaved", "bf16", full)) {
            for (StandinRank r : s.prefill) {
                r.writeInts("input_ids", 4, 2, 0, 0, 4, 2, 0, 0);
                r.writeInts("attention_mask", 1, 1, 0, 0, 1, 1, 0, 0);
                r.writeInts("position_ids", 0, 1, 2, 3, 0, 1, 2, 3);
                r.writeInts("seq_ids", 0, 0);
            }
            List<float[]> logits = s.run(s.prefill);
            ref.token(0, 4, 0);
            float[] row = ref.token(0, 2, 1);
            for (float[] l : logits) assertRow(row, l, 0, "bf16 prefill");
            assertIdenticalAcrossRanks(logits);
        }
    }

    private static void assertIdenticalAcrossRanks(List<float[]> logits) {
        for (float[] l : logits) assertArrayEquals(logits.get(0), l, 0f, "every rank writes the same logits");
    }

    @Test
    void tokenIdsOutputIsTheGreedyArgmax() throws Exception {
        StandinNeff.Graph g = StandinNeff.Graph.tiny("prefill", 2, 4, 4, 1).withOutput("token_ids");
        Map<String, float[]> full = weights(g, 7);
        Reference ref = new Reference(g, full);
        try (Nrt nrt = Nrt.open(null)) {
            nrt.init();
            Map<String, Nrt.Tensor> shared = new HashMap<>();
            StandinRank r = new StandinRank(nrt, nrt.load(StandinNeff.direct(StandinNeff.neff("p", g)), 0),
                    StandinNeff.specs(g), 0, shared);
            for (Map.Entry<String, Nrt.Tensor> e : shared.entrySet()) {
                if (full.containsKey(e.getKey())) nrt.write(e.getValue(), 0, StandinRank.floats(full.get(e.getKey())));
            }
            r.writeInts("input_ids", 3, 5, 0, 0, 3, 5, 0, 0);
            r.writeInts("attention_mask", 1, 1, 0, 0, 1, 1, 0, 0);
            r.writeInts("position_ids", 0, 1, 2, 3, 0, 1, 2, 3);
            r.writeInts("seq_ids", 0, 0);
            r.writeFloats("sampling_params", 1, 1, 0, 1, 1, 0);
            r.execute();
            ref.token(0, 3, 0);
            float[] logits = ref.token(0, 5, 1);
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            assertArrayEquals(new int[] {best, best}, r.readInts("token_ids"));

            r.writeFloats("sampling_params", 1, 1, 0.7f, 1, 1, 0.7f);
            NrtException e = org.junit.jupiter.api.Assertions.assertThrows(NrtException.class, r::execute);
            assertEquals(1002, e.status(), "temperature > 0 is NRT_EXEC_BAD_INPUT: " + e.getMessage());
        }
    }
}
