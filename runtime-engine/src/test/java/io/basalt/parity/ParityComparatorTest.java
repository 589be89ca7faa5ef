package io.basalt.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics on dumps whose answers are known by hand. */
class ParityComparatorTest {
    @TempDir
    Path dir;

    private Comparison compare(Path a, Path b) {
        try (ParityDump da = ParityDump.open(a); ParityDump db = ParityDump.open(b)) {
            return ParityComparator.compare(da, db);
        }
    }

    private Path dump(String name, String precision, int[] tokens, int promptLength, float[][] logits) {
        return SyntheticDumps.write(dir.resolve(name), precision, "full", tokens, promptLength, logits, null);
    }

    @Test
    void errorsCosineAndKlOfOneRowMatchTheirDefinitions() {
        float ln3 = (float) Math.log(3);
        Path a = dump("a", "fp32", new int[] {0}, 1, SyntheticDumps.rows(new float[] {0, 0, -2}));
        Path b = dump("b", "fp32", new int[] {0}, 1, SyntheticDumps.rows(new float[] {ln3, 0, -1}));
        LogitStats s = compare(a, b).overall();
        assertEquals(1, s.rows());
        assertEquals(ln3, s.maxAbs(), 1e-7);
        assertEquals((ln3 + 1) / 3, s.meanAbs(), 1e-7);
        assertEquals(ln3 / 2, s.maxRel(), 1e-7, "max|Δ| / max|a|");
        assertEquals((ln3 + 1) / 2, s.meanRel(), 1e-7, "Σ|Δ| / Σ|a|");
        assertEquals(2 / (Math.sqrt(4) * Math.sqrt(ln3 * ln3 + 1)), s.minCosine(), 1e-7);
        double[] pa = softmax(0, 0, -2);
        double[] pb = softmax(ln3, 0, -1);
        double kl = 0;
        for (int i = 0; i < 3; i++) kl += pa[i] * Math.log(pa[i] / pb[i]);
        assertEquals(kl, s.maxKl(), 1e-12);
        assertEquals(kl, s.meanKl(), 1e-12);
        assertEquals(1.0, s.top1(), "A's tie (ids 0 and 1) resolves to id 0, B's argmax is id 0");
    }

    private static double[] softmax(double... x) {
        double s = 0;
        for (double v : x) s += Math.exp(v);
        double[] p = new double[x.length];
        for (int i = 0; i < x.length; i++) p[i] = Math.exp(x[i]) / s;
        return p;
    }

    @Test
    void klOfAKnownPairIsHalfLnFourThirds() {
        // p_a = (1/2, 1/2), p_b = (3/4, 1/4): KL = ½ ln(2/3) + ½ ln 2 = ½ ln(4/3)
        Path a = dump("a", "fp32", new int[] {0}, 1, SyntheticDumps.rows(new float[] {0, 0}));
        Path b = dump("b", "fp32", new int[] {0}, 1, SyntheticDumps.rows(new float[] {(float) Math.log(3), 0}));
        assertEquals(0.5 * Math.log(4.0 / 3), compare(a, b).overall().maxKl(), 1e-7);
        assertEquals(0.0, compare(a, a).overall().maxKl());
    }

    @Test
    void topOneAndTopFiveAgreementCountIdsNotValues() {
        float[] a1 = {9, 8, 7, 6, 5, 0, 0, 0};
        float[] b1 = {9, 8, 7, 6, 0, 5.5f, 0, 0}; // same argmax, top-5 shares 4 of 5
        float[] a2 = {1, 2, 0, 0, 0, 0, 0, 0};
        float[] b2 = {2, 1, 0, 0, 0, 0, 0, 0}; // argmax differs; top-5 {1,0,2,3,4} vs {0,1,2,3,4}: all 5 shared
        Comparison c = compare(dump("a", "fp32", new int[] {0, 1}, 2, SyntheticDumps.rows(a1, a2)),
                dump("b", "fp32", new int[] {0, 1}, 2, SyntheticDumps.rows(b1, b2)));
        assertEquals(0.5, c.overall().top1());
        assertEquals((0.8 + 1.0) / 2, c.overall().top5(), 1e-12);
        assertEquals(1, c.prompts().getFirst().firstArgmaxDivergence());
        assertEquals(-1, c.prompts().getFirst().contextDivergence(), "the inputs never differ: teacher-forced prompt");
    }

    @Test
    void rowsAfterTheGreedyOutputsDivergeAreExcludedAndCounted() {
        // prompt of 2, then greedy: A chose 5 (argmax of row 1), B chose 6; from position 2 on the contexts differ.
        float[] same = {0, 1, 0, 0, 0, 0, 0, 0};
        float[] a1 = {0, 0, 0, 0, 0, 3, 2.9f, 0};
        float[] b1 = {0, 0, 0, 0, 0, 2.9f, 3, 0};
        float[] far = {100, 0, 0, 0, 0, 0, 0, -100}; // would dominate every metric if it were compared
        Comparison c = compare(dump("a", "fp32", new int[] {7, 3, 5, 1}, 2, SyntheticDumps.rows(same, a1, far, far)),
                dump("b", "bf16", new int[] {7, 3, 6, 1}, 2, SyntheticDumps.rows(same, b1, same, same)));
        Comparison.PromptResult p = c.prompts().getFirst();
        assertEquals(2, p.compared());
        assertEquals(2, p.excluded());
        assertEquals(2, p.contextDivergence());
        assertEquals(1, p.firstArgmaxDivergence());
        assertEquals(2, c.excludedPositions());
        assertEquals(0.1, c.overall().maxAbs(), 1e-6, "only rows 0 and 1 enter the metrics");
        assertEquals(2, p.maxAbsByPosition().length);
        assertEquals("position 1 (after 0 identical generated tokens)", ParityReport.divergence(p));
    }

    @Test
    void differentPromptTokensVocabulariesOrPromptCountsAreBadInput() {
        Path a = dump("a", "fp32", new int[] {1, 2, 3}, 3, SyntheticDumps.rows(new float[2], new float[2], new float[2]));
        Path b = dump("b", "fp32", new int[] {1, 9, 3}, 3, SyntheticDumps.rows(new float[2], new float[2], new float[2]));
        ParityInputException e = assertThrows(ParityInputException.class, () -> compare(a, b));
        assertTrue(e.getMessage().contains("different prompt tokens at position 1 (A 2, B 9)"), e.getMessage());
        Path wide = dump("w", "fp32", new int[] {1}, 1, SyntheticDumps.rows(new float[3]));
        assertTrue(assertThrows(ParityInputException.class, () -> compare(a, wide)).getMessage().contains("different vocabularies"));
        Path two = dir.resolve("two");
        try (DumpWriter w = DumpWriter.create(two, SyntheticDumps.metadata("fp32", "full", 2, null,
                List.of(new DumpMetadata.Prompt(null, 1, 1), new DumpMetadata.Prompt(null, 1, 1))))) {
            for (int p = 0; p < 2; p++) {
                w.tokens(p, new int[] {1});
                w.logits(p, 0, new float[2]);
            }
            w.commit();
        }
        assertTrue(assertThrows(ParityInputException.class, () -> compare(a, two)).getMessage().contains("different prompt sets"));
    }

    @Test
    void aLongerDumpIsComparedOnTheCommonPositionsWithAWarning() {
        Path a = dump("a", "fp32", new int[] {1, 2, 3}, 3, SyntheticDumps.rows(new float[] {1, 0}, new float[] {1, 0}, new float[] {1, 0}));
        Path b = dump("b", "fp32", new int[] {1, 2}, 2, SyntheticDumps.rows(new float[] {1, 0}, new float[] {1, 0}));
        Comparison c = compare(a, b);
        assertEquals(2, c.comparedPositions());
        assertEquals(1, c.prompts().getFirst().unmatched());
        assertTrue(c.warnings().getFirst().contains("A has 3 positions, B 2"), c.warnings().toString());
    }

    @Test
    void differentModelHashesWarnButDoNotFail() {
        float[][] rows = SyntheticDumps.rows(new float[] {1, 0});
        Path a = SyntheticDumps.write(dir.resolve("a"), "sha256:aaaa", "fp32", "full", new int[] {0}, 1, rows, null);
        Path b = SyntheticDumps.write(dir.resolve("b"), "sha256:bbbb", "fp32", "full", new int[] {0}, 1, rows, null);
        Path imported = SyntheticDumps.write(dir.resolve("c"), "", "fp32", "full", new int[] {0}, 1, rows, null);
        Comparison c = compare(a, b);
        assertEquals(List.of("the model hashes differ (A sha256:aaaa, B sha256:bbbb): different checkpoints or formats"), c.warnings());
        assertEquals(List.of(), Thresholds.defaults(Precision.FP32).check(c));
        assertEquals(List.of(), compare(a, imported).warnings(), "an import has no hash to compare");
    }

    @Test
    void aTopKDumpIsComparedOverItsStoredIds() {
        float[] full = {5, 4, 3, 2, 1, -50, -60};
        float[] close = {5.5f, 4, 3, 2, 1, 0, 0};
        Path a = SyntheticDumps.write(dir.resolve("full"), "fp32", "full", new int[] {0}, 1, SyntheticDumps.rows(full), null);
        Path b = SyntheticDumps.write(dir.resolve("topk"), "fp32", "topk:5", new int[] {0}, 1, SyntheticDumps.rows(close), null);
        Comparison c = compare(a, b);
        assertEquals(0.5, c.overall().maxAbs(), 1e-6, "ids 5 and 6 (50 and 60 apart) are not in B's top 5");
        assertEquals(0.5 / 15, c.overall().meanRel(), 1e-6);
        assertEquals(1.0, c.overall().top1());
        Comparison both = compare(b, b);
        assertEquals(0.0, both.overall().maxAbs());
    }

    @Test
    void hiddenStatesGiveAPerLayerTable() {
        float[][][] ha = {{{1, 0}, {0, 1}}, {{2, 0}, {0, 2}}};
        float[][][] hb = {{{1, 0}, {0, 1}}, {{2, 0.5f}, {0, 2}}};
        float[][] logits = SyntheticDumps.rows(new float[] {1, 0}, new float[] {0, 1});
        Comparison c = compare(SyntheticDumps.write(dir.resolve("a"), "fp32", "full", new int[] {0, 1}, 2, logits, ha),
                SyntheticDumps.write(dir.resolve("b"), "fp32", "full", new int[] {0, 1}, 2, logits, hb));
        assertTrue(c.hiddenCompared());
        assertEquals(2, c.layers().size());
        assertEquals(0.0, c.layers().get(0).relRms());
        assertEquals(0.5, c.layers().get(1).maxAbs(), 1e-7);
        assertEquals(0.5 / 4, c.layers().get(1).meanAbs(), 1e-7);
        assertEquals(Math.sqrt(0.25 / 8), c.layers().get(1).relRms(), 1e-7);
        assertEquals(Math.sqrt(0.25 / 4), c.prompts().getFirst().relRmsByPosition()[0], 1e-7, "last layer, position 0");
        Comparison without = compare(SyntheticDumps.write(dir.resolve("c"), "fp32", "full", new int[] {0, 1}, 2, logits, null),
                SyntheticDumps.write(dir.resolve("d"), "fp32", "full", new int[] {0, 1}, 2, logits, hb));
        assertEquals("A has no hidden states", without.hiddenNote());
    }

    @Test
    void nanLogitsFailEveryLimitInsteadOfHiding() {
        Path a = dump("a", "fp32", new int[] {0}, 1, SyntheticDumps.rows(new float[] {1, 2}));
        Path b = dump("b", "fp32", new int[] {0}, 1, SyntheticDumps.rows(new float[] {Float.NaN, 2}));
        Comparison c = compare(a, b);
        assertTrue(Double.isNaN(c.overall().maxAbs()));
        List<Thresholds.Violation> v = Thresholds.defaults(Precision.BF16).check(c);
        assertTrue(v.stream().anyMatch(x -> x.metric() == Thresholds.Metric.MAX_ABS), v.toString());
    }
}
