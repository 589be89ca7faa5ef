package io.basalt.parity;

import java.util.Arrays;

/** The ids of the k largest values, largest first; equal values keep the lower id first (as an argmax does). */
final class TopIds {
    private TopIds() {}

    static int[] of(float[] v, int k) {
        k = Math.min(k, v.length);
        int[] ids = new int[k];
        float[] vals = new float[k];
        int n = 0;
        for (int i = 0; i < v.length; i++) {
            float x = v[i];
            // NaN never ranks (it would poison every comparison after it); the metrics report it instead.
            if (Float.isNaN(x) || (n == k && !(x > vals[k - 1]))) continue;
            int at = n < k ? n++ : k - 1;
            while (at > 0 && x > vals[at - 1]) {
                vals[at] = vals[at - 1];
                ids[at] = ids[at - 1];
                at--;
            }
            vals[at] = x;
            ids[at] = i;
        }
        return n == k ? ids : Arrays.copyOf(ids, n);
    }

    /** The index of the largest value (lowest index among equals; -1 for an empty or all-NaN row). */
    static int argmax(float[] v) {
        int best = -1;
        for (int i = 0; i < v.length; i++) if (!Float.isNaN(v[i]) && (best < 0 || v[i] > v[best])) best = i;
        return best;
    }
}
