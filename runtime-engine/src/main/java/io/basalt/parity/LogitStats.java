package io.basalt.parity;

/**
 * Logit metrics accumulated over positions (and merged over prompts). Per position the two rows
 * are compared over the same ids: the whole vocabulary, or for top-k dumps the stored ids (see
 * {@link ParityComparator}). Side A is the reference: relative errors divide by A's magnitudes and
 * KL is KL(P_A ‖ P_B) of the softmax distributions (in float64).
 */
public final class LogitStats {
    private int rows;
    private long elements;
    private double sumAbs;
    private double sumAbsRef;
    private double maxAbs;
    private double maxRel;
    private double minCosine = Double.POSITIVE_INFINITY;
    private double sumCosine;
    private double maxKl;
    private double sumKl;
    private int top1;
    private double top5;
    private boolean nan;

    /** One position's comparison. */
    public record Row(double maxAbs, double sumAbs, double sumAbsRef, long elements, double maxRel, double cosine, double kl,
                      boolean top1, double top5) { }

    void add(Row r) {
        rows++;
        elements += r.elements();
        sumAbs += r.sumAbs();
        sumAbsRef += r.sumAbsRef();
        maxAbs = max(maxAbs, r.maxAbs());
        maxRel = max(maxRel, r.maxRel());
        minCosine = Math.min(minCosine, r.cosine());
        sumCosine += r.cosine();
        maxKl = max(maxKl, r.kl());
        sumKl += r.kl();
        if (r.top1()) top1++;
        top5 += r.top5();
        nan |= Double.isNaN(r.maxAbs()) || Double.isNaN(r.cosine()) || Double.isNaN(r.kl());
    }

    void merge(LogitStats o) {
        rows += o.rows;
        elements += o.elements;
        sumAbs += o.sumAbs;
        sumAbsRef += o.sumAbsRef;
        maxAbs = max(maxAbs, o.maxAbs);
        maxRel = max(maxRel, o.maxRel);
        minCosine = Math.min(minCosine, o.minCosine);
        sumCosine += o.sumCosine;
        maxKl = max(maxKl, o.maxKl);
        sumKl += o.sumKl;
        top1 += o.top1;
        top5 += o.top5;
        nan |= o.nan;
    }

    /** NaN wins, so a NaN anywhere fails every threshold instead of vanishing in a max. */
    private static double max(double a, double b) { return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b); }

    private double orNan(double v) { return nan ? Double.NaN : v; }

    public int rows() { return rows; }

    /** max |a − b| over every compared logit. */
    public double maxAbs() { return orNan(maxAbs); }

    /** mean |a − b| over every compared logit. */
    public double meanAbs() { return orNan(elements == 0 ? 0 : sumAbs / elements); }

    /** max over positions of max|a − b| / max|a|. */
    public double maxRel() { return orNan(maxRel); }

    /** Σ|a − b| / Σ|a| over every compared logit. */
    public double meanRel() { return orNan(sumAbsRef == 0 ? (sumAbs == 0 ? 0 : Double.POSITIVE_INFINITY) : sumAbs / sumAbsRef); }

    public double minCosine() { return orNan(rows == 0 ? 1 : minCosine); }

    public double meanCosine() { return orNan(rows == 0 ? 1 : sumCosine / rows); }

    public double maxKl() { return orNan(maxKl); }

    public double meanKl() { return orNan(rows == 0 ? 0 : sumKl / rows); }

    /** Fraction of positions whose argmax agrees. */
    public double top1() { return rows == 0 ? 1 : (double) top1 / rows; }

    /** Mean over positions of |top5(A) ∩ top5(B)| / 5. */
    public double top5() { return rows == 0 ? 1 : top5 / rows; }
}
