package io.basalt.testing;

/** Reference math the tests check the engine's numbers against, in double precision. */
public final class ReferenceMath {
    private ReferenceMath() {}

    /** log softmax: logits[i] - log Σ exp(logits), with the maximum subtracted first. */
    public static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        double logZ = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = logits[i] - logZ;
        return out;
    }
}
