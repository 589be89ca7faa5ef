package io.basalt.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.basalt.model.layout.LoadOptions;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Thresholds, their defaults and overrides, and what the three report formats contain. */
class ParityReportTest {
    @TempDir
    Path dir;

    private Comparison drifted() {
        float[][][] ha = {{{1, 0}, {0, 1}, {1, 1}}};
        float[][][] hb = {{{1, 0.01f}, {0, 1}, {1, 1}}};
        float[][] a = SyntheticDumps.rows(new float[] {1, 0, 0, 0, 0, 0}, new float[] {0, 2, 0, 0, 0, 0}, new float[] {0, 0, 3, 0, 0, 0});
        float[][] b = SyntheticDumps.rows(new float[] {1.02f, 0, 0, 0, 0, 0}, new float[] {0, 2, 0, 0, 0, 0}, new float[] {0, 0, 3, 0, 0, 0});
        try (ParityDump da = ParityDump.open(SyntheticDumps.write(dir.resolve("a"), "fp32", "full", new int[] {0, 1, 2}, 3, a, ha));
             ParityDump db = ParityDump.open(SyntheticDumps.write(dir.resolve("b"), "bf16", "full", new int[] {0, 1, 2}, 3, b, hb))) {
            return ParityComparator.compare(da, db);
        }
    }

    @Test
    void precisionClassesOrderAndParse() {
        assertEquals(Precision.FP32, Precision.ofRun(LoadOptions.parse("auto", "none")));
        assertEquals(Precision.FP32, Precision.ofRun(LoadOptions.parse("fp32", "none")));
        assertEquals(Precision.BF16, Precision.ofRun(LoadOptions.parse("bfloat16", "none")));
        assertEquals(Precision.F16, Precision.ofRun(LoadOptions.parse("f16", "none")));
        assertEquals(Precision.Q8_0, Precision.ofRun(LoadOptions.parse("bf16", "q8_0")));
        assertEquals(Precision.BF16, Precision.lessPrecise(Precision.FP32, Precision.BF16));
        assertEquals(Precision.BF16, Precision.lessPrecise(Precision.BF16, Precision.F16));
        assertTrue(assertThrows(ParityInputException.class, () -> Precision.parse("fp8")).getMessage().contains("unknown precision 'fp8'"));
    }

    @Test
    void defaultsLoosenWithPrecisionAndOverridesReplaceByName() {
        for (Thresholds.Metric m : Thresholds.Metric.values()) {
            double fp32 = Thresholds.defaults(Precision.FP32).limits().get(m);
            double f16 = Thresholds.defaults(Precision.F16).limits().get(m);
            double bf16 = Thresholds.defaults(Precision.BF16).limits().get(m);
            assertTrue(m.upper() ? f16 > fp32 && bf16 > f16 : f16 < fp32 && bf16 < f16, m.key() + ": each class is looser than the more precise one");
        }
        Thresholds t = Thresholds.defaults(Precision.BF16).with(List.of("max_abs=1e-3", " MIN_TOP1 = 1"));
        assertEquals(1e-3, t.limits().get(Thresholds.Metric.MAX_ABS));
        assertEquals(1.0, t.limits().get(Thresholds.Metric.MIN_TOP1));
        assertEquals(Precision.BF16, t.basis());
        ParityInputException unknown = assertThrows(ParityInputException.class, () -> t.with(List.of("max_error=1")));
        assertTrue(unknown.getMessage().contains("unknown threshold 'max_error' (known: max_abs, mean_abs"), unknown.getMessage());
        assertThrows(ParityInputException.class, () -> t.with(List.of("max_abs")));
        assertTrue(assertThrows(ParityInputException.class, () -> t.with(List.of("max_abs=tiny"))).getMessage().contains("needs a number"));
    }

    @Test
    void violationsNameTheMetricTheValueAndTheLimit() {
        Comparison c = drifted();
        assertEquals(List.of(), Thresholds.defaults(Precision.BF16).check(c));
        List<Thresholds.Violation> v = Thresholds.defaults(Precision.FP32).check(c);
        assertTrue(v.stream().anyMatch(x -> x.metric() == Thresholds.Metric.MAX_HIDDEN_REL_RMS), v.toString());
        Thresholds.Violation maxAbs = v.stream().filter(x -> x.metric() == Thresholds.Metric.MAX_ABS).findFirst().orElseThrow();
        assertEquals("max_abs = 0.02 > 1e-03 (max |Δlogit|)", maxAbs.describe());
    }

    @Test
    void numbersKeepFourDigitsAndShowNearOnesAsOneMinus() {
        assertEquals("0", Numbers.format(0));
        assertEquals("1.047", Numbers.format(1.0470001));
        assertEquals("0.1", Numbers.format(0.1));
        assertEquals("4.277e-05", Numbers.format(4.2771e-5));
        assertEquals("1e-03", Numbers.format(1e-3));
        assertEquals("0.9932", Numbers.format(0.99321));
        assertEquals("1 − 4.312e-05", Numbers.format(1 - 4.312e-5));
        assertEquals("NaN", Numbers.format(Double.NaN));
    }

    @Test
    void theReportsCarryTheTablesTheVerdictAndThePlots() {
        Comparison c = drifted();
        ParityReport report = new ParityReport(c, Thresholds.defaults(Precision.FP32), "a<1>.safetensors", "b.safetensors", "fp32 defaults");
        assertFalse(report.passed());
        String text = report.text();
        assertTrue(text.contains("A (reference): a<1>.safetensors — test dtype=fp32 on test cpu (test/x)"), text);
        assertTrue(text.contains("Per layer (hidden state after each block"), text);
        assertTrue(text.contains("FAIL: "), text);
        assertTrue(text.lines().anyMatch(l -> l.matches("\\s+max_abs\\s+max \\|Δlogit\\|\\s+0\\.02\\s+≤ 1e-03\\s+FAIL")), text);

        String md = report.markdown();
        assertTrue(md.contains("| layer | max \\|Δ\\| | mean \\|Δ\\| | relative RMS |"), md);
        assertTrue(md.contains("### Per position, prompt 0"), md);
        assertTrue(md.contains("**FAIL: "), md);

        String html = report.html();
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertEquals(4, html.split("<svg ", -1).length - 1, "drift per layer, logits and KL per position, last layer per position");
        assertTrue(html.contains("a&lt;1&gt;.safetensors") && !html.contains("a<1>"), "escaped");
        assertTrue(html.contains("layer (block index)") && html.contains("max |Δlogit| (logit units)"), "axis titles with units");
        assertFalse(html.contains("http://") && html.contains("<script"), "self-contained");
    }

    @Test
    void chartTicksAreRoundNumbers() {
        assertEquals(1, SvgChart.niceStep(0.4));
        assertEquals(2, SvgChart.niceStep(1.5));
        assertEquals(5, SvgChart.niceStep(3));
        assertEquals(50, SvgChart.niceStep(23.1));
        assertEquals(100, SvgChart.niceStep(60));
    }
}
