package io.basalt.model.layout;

/**
 * Rotary position embedding for one head. {@link Style#INTERLEAVED} rotates pairs (x[2i], x[2i+1])
 * (Meta/llama2.c/GGUF layout); {@link Style#HALF_SPLIT} rotates (x[i], x[i + d/2]) (Hugging Face
 * and gpt-oss). Only the first {@code rotaryDims} dimensions of a head are rotated. cos and sin are
 * multiplied by {@code concentration} (YaRN's attention factor; 1 otherwise).
 */
public final class Rope {
    public enum Style { INTERLEAVED, HALF_SPLIT }

    private final Style style;
    private final int rotaryDims;
    private final float[] invFreq;
    private final float concentration;

    public Rope(Style style, int rotaryDims, float[] invFreq, float concentration) {
        if (invFreq.length != rotaryDims / 2) throw new IllegalArgumentException("need " + rotaryDims / 2 + " frequencies");
        this.style = style;
        this.rotaryDims = rotaryDims;
        this.invFreq = invFreq.clone();
        this.concentration = concentration;
    }

    /** Standard RoPE: inv_freq[i] = base^(−2i/d), computed in float32 as the references do. */
    public static Rope standard(Style style, int rotaryDims, float base) {
        float[] inv = new float[rotaryDims / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1.0f / (float) Math.pow(base, (2 * i) / (float) rotaryDims);
        return new Rope(style, rotaryDims, inv, 1f);
    }

    /**
     * YaRN (gpt-oss; HF "yarn" with truncate=false): frequencies below the ramp keep their value,
     * above it are divided by {@code factor}, blended linearly in between; see MODELS.md.
     */
    public static Rope yarn(int headDim, double base, double factor, double originalContext, double betaFast, double betaSlow) {
        int half = headDim / 2;
        double low = half * Math.log(originalContext / (betaFast * 2 * Math.PI)) / Math.log(base);
        double high = half * Math.log(originalContext / (betaSlow * 2 * Math.PI)) / Math.log(base);
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            double freq = Math.pow(base, (2.0 * i) / headDim);
            double extrapolation = 1.0 / freq;
            double interpolation = 1.0 / (factor * freq);
            double ramp = Math.min(1.0, Math.max(0.0, (i - low) / (high - low)));
            double mask = 1.0 - ramp;
            inv[i] = (float) (interpolation * (1 - mask) + extrapolation * mask);
        }
        float concentration = (float) (0.1 * Math.log(factor) + 1.0);
        return new Rope(Style.HALF_SPLIT, headDim, inv, concentration);
    }

    /**
     * Llama 3.1's frequency scaling (HF rope_type "llama3"): long wavelengths are divided by
     * {@code factor}, short ones kept, and the band between blended smoothly.
     */
    public static Rope llama3(Style style, int rotaryDims, float base, double factor, double lowFreqFactor,
                              double highFreqFactor, double originalContext) {
        float[] inv = standard(style, rotaryDims, base).invFreq;
        double lowFreqWavelen = originalContext / lowFreqFactor;
        double highFreqWavelen = originalContext / highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowFreqWavelen) {
                inv[i] = (float) (inv[i] / factor);
            } else if (wavelen >= highFreqWavelen) {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                inv[i] = (float) ((1 - smooth) * inv[i] / factor + smooth * inv[i]);
            }
        }
        return new Rope(style, rotaryDims, inv, 1f);
    }

    /** This RoPE with each frequency divided by the given factor (GGUF's rope_freqs tensor). */
    public Rope withFrequencyFactors(float[] factors) {
        if (factors.length != invFreq.length) throw new IllegalArgumentException("need " + invFreq.length + " factors");
        float[] inv = invFreq.clone();
        for (int i = 0; i < inv.length; i++) inv[i] /= factors[i];
        return new Rope(style, rotaryDims, inv, concentration);
    }

    public float[] invFreq() { return invFreq.clone(); }

    public Style style() { return style; }

    /** Dimensions of each head that rotate (the first ones; the rest pass through). */
    public int rotaryDims() { return rotaryDims; }

    public float concentration() { return concentration; }

    /** Rotates numHeads consecutive heads of size headDim in v, starting at offset 0, for position pos. */
    public void apply(float[] v, int numHeads, int headDim, int pos) {
        int half = rotaryDims / 2;
        float[] cos = new float[half];
        float[] sin = new float[half];
        for (int i = 0; i < half; i++) {
            float angle = pos * invFreq[i]; // float32 angle, as llama2.c and the gpt-oss reference compute it
            cos[i] = (float) Math.cos(angle) * concentration;
            sin[i] = (float) Math.sin(angle) * concentration;
        }
        for (int h = 0; h < numHeads; h++) {
            int base = h * headDim;
            for (int i = 0; i < half; i++) {
                int a = style == Style.INTERLEAVED ? base + 2 * i : base + i;
                int b = style == Style.INTERLEAVED ? a + 1 : base + i + half;
                float x0 = v[a];
                float x1 = v[b];
                v[a] = x0 * cos[i] - x1 * sin[i];
                v[b] = x1 * cos[i] + x0 * sin[i];
            }
        }
    }
}
