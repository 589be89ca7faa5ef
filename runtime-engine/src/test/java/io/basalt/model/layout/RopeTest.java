package io.basalt.model.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RopeTest {
    @Test
    void standardFrequenciesAndRotationPreserveNorm() {
        Rope rope = Rope.standard(Rope.Style.HALF_SPLIT, 8, 10000f);
        float[] inv = rope.invFreq();
        assertEquals(1f, inv[0]);
        assertEquals(Math.pow(10000, -0.25), inv[1], 1e-7);
        float[] v = {1, 2, 3, 4, 5, 6, 7, 8};
        double before = 0;
        for (float x : v) before += x * x;
        rope.apply(v, 1, 8, 17);
        double after = 0;
        for (float x : v) after += x * x;
        assertEquals(before, after, 1e-3);
    }

    @Test
    void interleavedAndHalfSplitRotateDifferentPairs() {
        float[] a = {1, 0, 0, 0};
        Rope.standard(Rope.Style.INTERLEAVED, 4, 10000f).apply(a, 1, 4, 1);
        assertEquals(Math.cos(1), a[0], 1e-6);
        assertEquals(Math.sin(1), a[1], 1e-6); // pair (0, 1)
        float[] b = {1, 0, 0, 0};
        Rope.standard(Rope.Style.HALF_SPLIT, 4, 10000f).apply(b, 1, 4, 1);
        assertEquals(Math.cos(1), b[0], 1e-6);
        assertEquals(Math.sin(1), b[2], 1e-6); // pair (0, 2)
    }

    @Test
    void llama3ScalingKeepsHighFrequenciesAndDividesLowOnes() {
        // Llama 3.1 8B: theta 500000, factor 8, low 1, high 4, original context 8192, head 128.
        Rope plain = Rope.standard(Rope.Style.HALF_SPLIT, 128, 500000f);
        Rope scaled = Rope.llama3(Rope.Style.HALF_SPLIT, 128, 500000f, 8, 1, 4, 8192);
        float[] p = plain.invFreq();
        float[] s = scaled.invFreq();
        assertEquals(p[0], s[0]);                  // wavelength 2π ≪ 8192/4: unchanged
        assertEquals(p[63] / 8, s[63], 1e-12);     // wavelength ≫ 8192: divided by the factor
        for (int i = 0; i < 64; i++) {             // in between: between the two
            assertEquals(true, s[i] <= p[i] + 1e-12 && s[i] >= p[i] / 8 - 1e-12, "pair " + i);
        }
    }
}
