package io.basalt.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TopSelectTest {
    @Test
    void matchesAFullSortIncludingNegativesInfinitiesAndTies() {
        Random r = new Random(2);
        float[] v = new float[3000];
        for (int i = 0; i < v.length; i++) v[i] = r.nextInt(7) == 0 ? (float) Math.round(r.nextGaussian()) : (float) r.nextGaussian() * 5;
        v[17] = Float.NEGATIVE_INFINITY;
        v[18] = Float.POSITIVE_INFINITY;
        v[19] = -0f;
        for (int k : new int[] {1, 2, 10, 100, 2999, 3000, 5000}) {
            int[] expected = IntStream.range(0, v.length).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> -v[i]).thenComparingInt(i -> i))
                    .limit(k).mapToInt(Integer::intValue).toArray();
            long[] top = TopSelect.largest(v, k);
            int[] ids = Arrays.stream(top).mapToInt(TopSelect::id).toArray();
            assertArrayEquals(expected, ids, "k=" + k);
            for (long p : top) assertEquals(v[TopSelect.id(p)], TopSelect.value(p));
        }
    }

    @Test
    void intCountsCountsAndGrows() {
        IntCounts c = new IntCounts(2);
        for (int i = 0; i < 1000; i++) c.increment(i * 7 % 311);
        assertEquals(311, c.size());
        int total = 0;
        for (int s = 0; s < c.capacity(); s++) if (c.keyAt(s) >= 0) total += c.valueAt(s);
        assertEquals(1000, total);
        assertEquals(4, c.get(0)); // 0, 311, 622, 933 → i*7 ≡ 0 mod 311 for i = 0, 311, 622, 933
        assertEquals(0, c.get(400));
    }
}
