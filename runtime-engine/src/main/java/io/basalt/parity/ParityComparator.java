package io.basalt.parity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code parity compare}: the metrics of two dumps, position by position. Rows are compared only
 * while both sides saw the same inputs: from the first position whose input token differs (the
 * greedy outputs diverged one position earlier) the contexts differ, so those rows are excluded and
 * counted. For top-k dumps a row is compared over the stored ids (those of the top-k side, or the
 * ids both sides stored); the softmax for KL and the cosine then cover only that top-k mass.
 */
public final class ParityComparator {
    private ParityComparator() {}

    /** Compares; dumps that do not describe the same prompts are a {@link ParityInputException}. */
    public static Comparison compare(ParityDump a, ParityDump b) {
        DumpMetadata ma = a.metadata();
        DumpMetadata mb = b.metadata();
        if (ma.vocabSize() != mb.vocabSize()) {
            throw new ParityInputException("the dumps have different vocabularies (A " + ma.vocabSize() + ", B " + mb.vocabSize() + ")");
        }
        if (a.numPrompts() != b.numPrompts()) {
            throw new ParityInputException("the dumps have different prompt sets (A " + a.numPrompts() + " prompts, B " + b.numPrompts() + ")");
        }
        List<String> warnings = new ArrayList<>();
        if (!ma.modelHash().isEmpty() && !mb.modelHash().isEmpty() && !ma.modelHash().equals(mb.modelHash())) {
            warnings.add("the model hashes differ (A " + ma.modelHash() + ", B " + mb.modelHash() + "): different checkpoints or formats");
        }
        String hiddenNote = hiddenNote(ma, mb);
        int layers = hiddenNote == null ? ma.numLayers() : 0;
        LogitStats overall = new LogitStats();
        List<LayerStats> overallLayers = newLayers(layers);
        List<Comparison.PromptResult> results = new ArrayList<>();
        for (int p = 0; p < a.numPrompts(); p++) {
            Comparison.PromptResult r = comparePrompt(a, b, p, layers);
            overall.merge(r.stats());
            for (int l = 0; l < layers; l++) overallLayers.get(l).merge(r.layers().get(l));
            if (r.unmatched() > 0) {
                warnings.add("prompt " + p + ": A has " + a.positions(p) + " positions, B " + b.positions(p) + "; compared the common "
                        + (r.compared() + r.excluded()));
            }
            results.add(r);
        }
        return new Comparison(ma, mb, results, overall, overallLayers, hiddenNote, warnings);
    }

    private static String hiddenNote(DumpMetadata a, DumpMetadata b) {
        if (!a.hasHidden() && !b.hasHidden()) return "neither dump has hidden states";
        if (!a.hasHidden()) return "A has no hidden states";
        if (!b.hasHidden()) return "B has no hidden states";
        if (a.numLayers() != b.numLayers() || a.hiddenSize() != b.hiddenSize()) {
            return "the hidden states differ in shape (A " + a.numLayers() + " layers × " + a.hiddenSize() + ", B " + b.numLayers() + " × "
                    + b.hiddenSize() + ")";
        }
        return null;
    }

    private static List<LayerStats> newLayers(int n) {
        List<LayerStats> out = new ArrayList<>(n);
        for (int l = 0; l < n; l++) out.add(new LayerStats());
        return out;
    }

    private static Comparison.PromptResult comparePrompt(ParityDump a, ParityDump b, int p, int layers) {
        int[] ta = a.tokens(p);
        int[] tb = b.tokens(p);
        int promptLength = Math.min(a.promptLength(p), b.promptLength(p));
        int common = Math.min(ta.length, tb.length);
        int context = -1;
        for (int i = 0; i < common && context < 0; i++) {
            if (ta[i] == tb[i]) continue;
            if (i < promptLength) {
                throw new ParityInputException("prompt " + p + ": the dumps have different prompt tokens at position " + i + " (A " + ta[i]
                        + ", B " + tb[i] + "); compare dumps of the same prompts");
            }
            context = i;
        }
        int compared = context < 0 ? common : context;
        LogitStats stats = new LogitStats();
        List<LayerStats> layerStats = newLayers(layers);
        double[] maxAbs = new double[compared];
        double[] kl = new double[compared];
        double[] lastLayer = new double[layers > 0 ? compared : 0];
        int firstArgmax = -1;
        for (int pos = 0; pos < compared; pos++) {
            LogitStats.Row row = compareRow(a.logits(p, pos), b.logits(p, pos));
            stats.add(row);
            maxAbs[pos] = row.maxAbs();
            kl[pos] = row.kl();
            if (!row.top1() && firstArgmax < 0) firstArgmax = pos;
            for (int l = 0; l < layers; l++) {
                float[] ha = a.hidden(p, l, pos);
                float[] hb = b.hidden(p, l, pos);
                layerStats.get(l).add(ha, hb);
                if (l == layers - 1) {
                    LayerStats one = new LayerStats();
                    one.add(ha, hb);
                    lastLayer[pos] = one.relRms();
                }
            }
        }
        String text = a.metadata().prompts().get(p).text();
        if (text == null) text = b.metadata().prompts().get(p).text();
        return new Comparison.PromptResult(p, text, promptLength, compared, common - compared, Math.max(ta.length, tb.length) - common,
                firstArgmax, context, stats, layerStats, maxAbs, kl, lastLayer);
    }

    /** Compares two rows over their common ids (see the class comment). */
    static LogitStats.Row compareRow(LogitRow a, LogitRow b) {
        float[] va;
        float[] vb;
        if (a.full() && b.full()) {
            if (a.values().length != b.values().length) throw new ParityInputException("logit rows of different widths");
            va = a.values();
            vb = b.values();
        } else {
            int[] ids = a.full() ? b.ids() : b.full() ? a.ids() : common(a.ids(), b.ids());
            va = gather(a, ids);
            vb = gather(b, ids);
        }
        int[] topA = a.top(5);
        int[] topB = b.top(5);
        return metrics(va, vb, a.argmax() == b.argmax(), overlap(topA, topB) / (double) Math.max(1, Math.max(topA.length, topB.length)));
    }

    private static int[] common(int[] a, int[] b) {
        java.util.Set<Integer> inB = new java.util.HashSet<>();
        for (int id : b) inB.add(id);
        return java.util.Arrays.stream(a).filter(inB::contains).toArray();
    }

    private static float[] gather(LogitRow r, int[] ids) {
        float[] out = new float[ids.length];
        if (r.full()) {
            for (int i = 0; i < ids.length; i++) out[i] = r.values()[ids[i]];
            return out;
        }
        Map<Integer, Float> byId = new HashMap<>();
        for (int i = 0; i < r.ids().length; i++) byId.put(r.ids()[i], r.values()[i]);
        for (int i = 0; i < ids.length; i++) out[i] = byId.get(ids[i]);
        return out;
    }

    private static int overlap(int[] a, int[] b) {
        int n = 0;
        for (int x : a) for (int y : b) if (x == y) n++;
        return n;
    }

    /** Errors, cosine and KL(P_A ‖ P_B) of aligned rows, in float64. */
    static LogitStats.Row metrics(float[] a, float[] b, boolean top1, double top5) {
        double maxAbs = 0, sumAbs = 0, sumAbsRef = 0, maxRef = 0, dot = 0, na = 0, nb = 0;
        boolean nan = false;
        for (int i = 0; i < a.length; i++) {
            double x = a[i], y = b[i], d = Math.abs(x - y);
            nan |= Double.isNaN(d);
            maxAbs = Math.max(maxAbs, d);
            sumAbs += d;
            sumAbsRef += Math.abs(x);
            maxRef = Math.max(maxRef, Math.abs(x));
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        if (nan || a.length == 0) {
            double v = a.length == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
            return new LogitStats.Row(nan ? Double.NaN : 0, 0, 0, 0, nan ? Double.NaN : 0, a.length == 0 ? 0 : Double.NaN, v, top1, top5);
        }
        double cosine = na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / Math.sqrt(na * nb);
        double maxRel = maxRef == 0 ? (maxAbs == 0 ? 0 : Double.POSITIVE_INFINITY) : maxAbs / maxRef;
        return new LogitStats.Row(maxAbs, sumAbs, sumAbsRef, a.length, maxRel, cosine, kl(a, b), top1, top5);
    }

    /** KL(softmax(a) ‖ softmax(b)) = Σ p_a (log p_a − log p_b), through log-sum-exp; never below 0. */
    static double kl(float[] a, float[] b) {
        double lseA = logSumExp(a);
        double lseB = logSumExp(b);
        double kl = 0;
        for (int i = 0; i < a.length; i++) {
            double la = a[i] - lseA;
            double pa = Math.exp(la);
            if (pa > 0) kl += pa * (la - (b[i] - lseB));
        }
        return Math.max(0, kl);
    }

    private static double logSumExp(float[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : v) max = Math.max(max, x);
        if (Double.isInfinite(max)) return max;
        double s = 0;
        for (float x : v) s += Math.exp(x - max);
        return max + Math.log(s);
    }
}
