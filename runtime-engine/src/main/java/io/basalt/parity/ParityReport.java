package io.basalt.parity;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code parity compare} tells a person: a header (what was compared with what, which
 * thresholds), warnings, the overall metrics against their limits, a table per prompt, the
 * per-layer drift table and the per-position drift, with the verdict. Rendered as text (stdout),
 * Markdown, or one self-contained HTML file with SVG plots.
 */
public final class ParityReport {
    /** Positions per prompt in the Markdown per-position table (evenly spaced beyond this). */
    static final int MAX_POSITION_ROWS = 40;
    /** Prompts drawn as separate lines in the HTML plots. */
    static final int MAX_PLOTTED_PROMPTS = 8;

    private final Comparison c;
    private final Thresholds thresholds;
    private final List<Thresholds.Violation> violations;
    private final String nameA;
    private final String nameB;
    private final String thresholdNote;

    /** @param thresholdNote how the thresholds were chosen, e.g. "bf16 defaults (the less precise dump)" */
    public ParityReport(Comparison c, Thresholds thresholds, String nameA, String nameB, String thresholdNote) {
        this.c = c;
        this.thresholds = thresholds;
        this.violations = thresholds.check(c);
        this.nameA = nameA;
        this.nameB = nameB;
        this.thresholdNote = thresholdNote;
    }

    public List<Thresholds.Violation> violations() { return violations; }

    public boolean passed() { return violations.isEmpty(); }

    List<String> header() {
        List<String> h = new ArrayList<>();
        h.add("A (reference): " + nameA + " — " + c.a().describe());
        h.add("B: " + nameB + " — " + c.b().describe());
        h.add("model hash: A " + orNone(c.a().modelHash()) + ", B " + orNone(c.b().modelHash()));
        h.add("thresholds: " + thresholdNote);
        h.add("compared " + c.comparedPositions() + " positions in " + c.prompts().size() + " prompt(s); " + c.excludedPositions()
                + " excluded after the greedy outputs diverged (different contexts)");
        if (c.a().logitsMode() instanceof LogitsMode.TopK || c.b().logitsMode() instanceof LogitsMode.TopK) {
            h.add("top-k dump: logit errors, cosine and KL cover the stored top-k ids only (KL of the softmax over that top-k mass)");
        }
        h.add(c.hiddenCompared() ? "hidden states: compared per layer (residual stream after each block)" : "hidden states: not compared: " + c.hiddenNote());
        return h;
    }

    private static String orNone(String s) { return s.isEmpty() ? "(none)" : s; }

    String verdict() {
        if (violations.isEmpty()) return "PASS: every metric is within the thresholds";
        StringBuilder sb = new StringBuilder("FAIL: " + violations.size() + " metric(s) past the thresholds:");
        for (Thresholds.Violation v : violations) sb.append("\n  ").append(v.describe());
        return sb.toString();
    }

    Table overall() {
        List<List<String>> rows = new ArrayList<>();
        for (Thresholds.Metric m : Thresholds.Metric.values()) {
            boolean skip = m == Thresholds.Metric.MAX_HIDDEN_REL_RMS && !c.hiddenCompared();
            Double limit = thresholds.limits().get(m);
            double v = m.value(c);
            String result = skip || limit == null ? "-" : m.passes(v, limit) ? "ok" : "FAIL";
            rows.add(List.of(m.key(), m.label(), skip ? "n/a" : Numbers.format(v),
                    limit == null ? "-" : (m.upper() ? "≤ " : "≥ ") + Numbers.format(limit), result));
        }
        return new Table("Overall", 2, List.of("metric", "meaning", "value", "limit", "result"), rows);
    }

    Table prompts() {
        List<List<String>> rows = new ArrayList<>();
        for (Comparison.PromptResult p : c.prompts()) {
            LogitStats s = p.stats();
            rows.add(List.of(Integer.toString(p.index()), label(p), divergence(p), Integer.toString(p.compared()), Integer.toString(p.excluded()),
                    Numbers.format(s.maxAbs()), Numbers.format(s.meanAbs()), Numbers.format(s.minCosine()),
                    Numbers.format(s.maxKl()), Numbers.format(s.top1()), Numbers.format(s.top5())));
        }
        return new Table("Per prompt", 3, List.of("#", "prompt", "first greedy divergence", "compared", "excluded", "max |Δ|", "mean |Δ|",
                "min cos", "max KL", "top-1", "top-5"), rows);
    }

    private static String label(Comparison.PromptResult p) {
        if (p.text() == null) return p.promptLength() + " tokens";
        String t = p.text().replace('\n', ' ');
        return "\"" + (t.length() > 24 ? t.substring(0, 23) + "…" : t) + "\"";
    }

    /** "none", or the position and whether it lies in the prompt or after k generated tokens. */
    static String divergence(Comparison.PromptResult p) {
        int d = p.firstArgmaxDivergence();
        if (d < 0) return "none";
        return d < p.promptLength() - 1 ? "position " + d + " (in the prompt)"
                : "position " + d + " (after " + (d - p.promptLength() + 1) + " identical generated tokens)";
    }

    Table layers() {
        List<List<String>> rows = new ArrayList<>();
        for (int l = 0; l < c.layers().size(); l++) {
            LayerStats s = c.layers().get(l);
            rows.add(List.of(Integer.toString(l), Numbers.format(s.maxAbs()), Numbers.format(s.meanAbs()), Numbers.format(s.relRms())));
        }
        return new Table("Per layer (hidden state after each block, all compared positions)", 1, List.of("layer", "max |Δ|", "mean |Δ|", "relative RMS"), rows);
    }

    Table positions(Comparison.PromptResult p) {
        List<List<String>> rows = new ArrayList<>();
        int n = p.compared();
        int step = Math.max(1, (n + MAX_POSITION_ROWS - 1) / MAX_POSITION_ROWS);
        for (int pos = 0; pos < n; pos += step) {
            rows.add(List.of(Integer.toString(pos), pos < p.promptLength() ? "prompt" : "generated", Numbers.format(p.maxAbsByPosition()[pos]),
                    Numbers.format(p.klByPosition()[pos]), p.relRmsByPosition().length > 0 ? Numbers.format(p.relRmsByPosition()[pos]) : "-"));
        }
        return new Table("Per position, prompt " + p.index() + (step > 1 ? " (one position in " + step + ")" : ""), 2,
                List.of("position", "input", "max |Δlogit|", "KL(A‖B)", "last layer rel. RMS"), rows);
    }

    /** The short report for stdout: header, warnings, overall, per prompt, per layer, verdict. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (String h : header()) sb.append(h).append('\n');
        for (String w : c.warnings()) sb.append("warning: ").append(w).append('\n');
        sb.append('\n').append(overall().text()).append('\n').append(prompts().text());
        if (c.hiddenCompared()) sb.append('\n').append(layers().text());
        return sb.append('\n').append(verdict()).append('\n').toString();
    }

    public String markdown() {
        StringBuilder sb = new StringBuilder("# Parity report\n\n");
        for (String h : header()) sb.append("- ").append(h.replace("|", "\\|")).append('\n');
        for (String w : c.warnings()) sb.append("- **warning:** ").append(w).append('\n');
        sb.append("\n**").append(verdict().lines().findFirst().orElse("")).append("**\n\n");
        verdict().lines().skip(1).forEach(l -> sb.append("- `").append(l.strip()).append("`\n"));
        sb.append('\n').append(overall().markdown()).append(prompts().markdown());
        if (c.hiddenCompared()) sb.append(layers().markdown());
        for (Comparison.PromptResult p : c.prompts()) sb.append(positions(p).markdown());
        return sb.toString();
    }

    /** One self-contained HTML file: the tables plus SVG plots of drift per layer and per position. */
    public String html() {
        StringBuilder sb = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Parity report</title>\n<style>\n"
                + "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin-bottom:1em}"
                + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td.t,th{text-align:left}"
                + "th{background:#f4f4f4}.fail{color:#b00;font-weight:bold}.pass{color:#070;font-weight:bold}\n</style></head><body>\n");
        sb.append("<h1>Parity report</h1>\n<ul>\n");
        for (String h : header()) sb.append("<li>").append(Html.escape(h)).append("</li>\n");
        for (String w : c.warnings()) sb.append("<li class=\"fail\">warning: ").append(Html.escape(w)).append("</li>\n");
        sb.append("</ul>\n<pre class=\"").append(passed() ? "pass" : "fail").append("\">").append(Html.escape(verdict())).append("</pre>\n");
        sb.append(overall().html()).append(prompts().html());
        if (c.hiddenCompared()) {
            sb.append(layers().html());
            List<SvgChart.Series> byLayer = List.of(
                    new SvgChart.Series("relative RMS", c.layers().stream().mapToDouble(LayerStats::relRms).toArray()),
                    new SvgChart.Series("mean |Δ|", c.layers().stream().mapToDouble(LayerStats::meanAbs).toArray()),
                    new SvgChart.Series("max |Δ|", c.layers().stream().mapToDouble(LayerStats::maxAbs).toArray()));
            sb.append(SvgChart.lineChart("Hidden-state drift per layer", "layer (block index)",
                    "drift (relative RMS: ratio; |Δ|: activation units)", byLayer, true));
        }
        List<Comparison.PromptResult> plotted = c.prompts().subList(0, Math.min(MAX_PLOTTED_PROMPTS, c.prompts().size()));
        sb.append("<h2>Drift per position</h2>\n");
        if (plotted.size() < c.prompts().size()) sb.append("<p>The first ").append(plotted.size()).append(" prompts are plotted.</p>\n");
        sb.append(SvgChart.lineChart("Logit drift per position", "position (token index)", "max |Δlogit| (logit units)",
                plotted.stream().map(p -> new SvgChart.Series("prompt " + p.index(), p.maxAbsByPosition())).toList(), true));
        sb.append(SvgChart.lineChart("Next-token KL per position", "position (token index)", "KL(A‖B) (nats)",
                plotted.stream().map(p -> new SvgChart.Series("prompt " + p.index(), p.klByPosition())).toList(), true));
        if (c.hiddenCompared()) {
            sb.append(SvgChart.lineChart("Last layer's hidden-state drift per position", "position (token index)", "relative RMS (ratio)",
                    plotted.stream().map(p -> new SvgChart.Series("prompt " + p.index(), p.relRmsByPosition())).toList(), true));
        }
        sb.append("<p>Positions after the first differing input token are excluded (the greedy outputs diverged; their contexts differ). "
                + "A is the reference: relative errors divide by A's magnitudes, KL is KL(P<sub>A</sub> ‖ P<sub>B</sub>).</p>\n");
        return sb.append("</body></html>\n").toString();
    }
}
