package io.basalt.engine.sampling;

import java.util.Arrays;

/**
 * The k largest entries of a float array without sorting it: a bounded min-heap of packed longs,
 * O(n log k) at worst and ~O(n) in practice (most entries lose to the heap's root at once). Used
 * for top-k (vocab up to 201,088) and for the top logprobs.
 *
 * <p>An entry is packed as {@code sortable(value) << 32 | (MAX - id)}: comparing the longs
 * compares values, and on equal values prefers the lower id, so ties resolve like the argmax.
 */
final class TopSelect {
    private TopSelect() {}

    /** The min(k, v.length) largest entries as packed longs, best first. */
    static long[] largest(float[] v, int k) {
        k = Math.min(k, v.length);
        if (k <= 0) return new long[0];
        long[] heap = new long[k];
        int size = 0;
        for (int i = 0; i < v.length; i++) {
            long p = pack(v[i], i);
            if (size < k) {
                heap[size] = p;
                siftUp(heap, size++);
            } else if (p > heap[0]) {
                heap[0] = p;
                siftDown(heap, k);
            }
        }
        Arrays.sort(heap);
        for (int i = 0, j = k - 1; i < j; i++, j--) { long t = heap[i]; heap[i] = heap[j]; heap[j] = t; }
        return heap;
    }

    static long pack(float value, int id) {
        int bits = Float.floatToIntBits(value);
        int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF); // negative floats: reverse magnitude order
        return ((long) sortable << 32) | (Integer.MAX_VALUE - id);
    }

    static int id(long packed) {
        return Integer.MAX_VALUE - (int) (packed & 0xFFFFFFFFL);
    }

    static float value(long packed) {
        int sortable = (int) (packed >> 32);
        return Float.intBitsToFloat(sortable ^ ((sortable >> 31) & 0x7FFFFFFF)); // the transform is its own inverse
    }

    private static void siftUp(long[] h, int i) {
        long x = h[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (h[parent] <= x) break;
            h[i] = h[parent];
            i = parent;
        }
        h[i] = x;
    }

    private static void siftDown(long[] h, int size) {
        long x = h[0];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && h[child + 1] < h[child]) child++;
            if (h[child] >= x) break;
            h[i] = h[child];
            i = child;
        }
        h[i] = x;
    }
}
