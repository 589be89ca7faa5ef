package io.basalt.kv;

import java.util.Arrays;

/**
 * Free blocks in eviction order, as a doubly linked list threaded through int arrays indexed by block id
 * (vLLM's FreeKVCacheBlockQueue without block objects). The head is handed out (and evicted) next; a
 * cached free block that a new request hits is unlinked from the middle in O(1).
 */
final class FreeBlockQueue {
    private static final int NONE = -1;

    private final int[] prev;
    private final int[] next;
    private final boolean[] queued;
    private int head = NONE;
    private int tail = NONE;
    private int size;

    /** Starts with every block free, in id order. */
    FreeBlockQueue(int numBlocks) {
        prev = new int[numBlocks];
        next = new int[numBlocks];
        queued = new boolean[numBlocks];
        for (int b = 0; b < numBlocks; b++) pushTail(b);
    }

    int size() {
        return size;
    }

    boolean contains(int block) {
        return queued[block];
    }

    int popHead() {
        if (head == NONE) throw new IllegalStateException("no free block");
        int block = head;
        remove(block);
        return block;
    }

    void pushTail(int block) {
        if (queued[block]) throw new IllegalStateException("block " + block + " is already free");
        queued[block] = true;
        prev[block] = tail;
        next[block] = NONE;
        if (tail == NONE) head = block; else next[tail] = block;
        tail = block;
        size++;
    }

    void remove(int block) {
        if (!queued[block]) throw new IllegalStateException("block " + block + " is not free");
        int p = prev[block];
        int n = next[block];
        if (p == NONE) head = n; else next[p] = n;
        if (n == NONE) tail = p; else prev[n] = p;
        queued[block] = false;
        size--;
    }

    /** Head to tail; for invariant checks. */
    int[] toArray() {
        int[] out = new int[size];
        int i = 0;
        for (int b = head; b != NONE; b = next[b]) out[i++] = b;
        return i == size ? out : Arrays.copyOf(out, i);
    }
}
