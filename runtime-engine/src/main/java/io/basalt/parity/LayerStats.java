package io.basalt.parity;

/** Drift of one layer's hidden states (the residual after the block), accumulated over positions and prompts. */
public final class LayerStats {
    private long elements;
    private double sumAbs;
    private double maxAbs;
    private double sumSqDiff;
    private double sumSqRef;

    void add(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            double ad = Math.abs(d);
            sumAbs += ad;
            maxAbs = Double.isNaN(d) || Double.isNaN(maxAbs) ? Double.NaN : Math.max(maxAbs, ad);
            sumSqDiff += d * d;
            sumSqRef += (double) a[i] * a[i];
        }
        elements += a.length;
    }

    void merge(LayerStats o) {
        elements += o.elements;
        sumAbs += o.sumAbs;
        maxAbs = Double.isNaN(o.maxAbs) || Double.isNaN(maxAbs) ? Double.NaN : Math.max(maxAbs, o.maxAbs);
        sumSqDiff += o.sumSqDiff;
        sumSqRef += o.sumSqRef;
    }

    public double maxAbs() { return maxAbs; }

    public double meanAbs() { return elements == 0 ? 0 : sumAbs / elements; }

    /** √(Σ(a − b)²) / √(Σa²): the error's RMS relative to A's. */
    public double relRms() { return sumSqRef == 0 ? (sumSqDiff == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(sumSqDiff / sumSqRef); }
}
