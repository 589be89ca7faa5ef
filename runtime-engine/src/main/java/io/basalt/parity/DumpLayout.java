package io.basalt.parity;

import java.util.ArrayList;
import java.util.List;

/**
 * The tensors of a dump and where their bytes lie, derived from the metadata alone, so the writer
 * can lay out the header before the first step and the reader can check a header against it.
 * Per prompt p: {@code p<p>.tokens} I32 [T] (the input at each position), then either
 * {@code p<p>.logits} F32 [T, vocab] or {@code p<p>.topk_ids} I32 [T, K] + {@code p<p>.topk_logits}
 * F32 [T, K] (largest first), then, with hidden states, {@code p<p>.hidden} F32 [layers, T, hidden].
 */
record DumpLayout(List<Entry> entries, java.util.Map<String, Entry> byName, long dataBytes) {
    enum Kind { TOKENS, LOGITS, TOPK_IDS, TOPK_LOGITS, HIDDEN }

    /** One tensor; {@code offset} is relative to the start of the data section. */
    record Entry(int prompt, Kind kind, String name, String dtype, long[] shape, long offset) {
        long bytes() {
            long n = 4;
            for (long d : shape) n *= d;
            return n;
        }
    }

    static DumpLayout of(DumpMetadata m) {
        List<Entry> out = new ArrayList<>();
        long offset = 0;
        for (int p = 0; p < m.prompts().size(); p++) {
            long t = m.prompts().get(p).positions();
            List<Entry> mine = new ArrayList<>();
            mine.add(entry(p, Kind.TOKENS, "I32", t));
            switch (m.logitsMode()) {
                case LogitsMode.Full f -> mine.add(entry(p, Kind.LOGITS, "F32", t, m.vocabSize()));
                case LogitsMode.TopK k -> {
                    mine.add(entry(p, Kind.TOPK_IDS, "I32", t, k.k()));
                    mine.add(entry(p, Kind.TOPK_LOGITS, "F32", t, k.k()));
                }
            }
            if (m.hasHidden()) mine.add(entry(p, Kind.HIDDEN, "F32", m.numLayers(), t, m.hiddenSize()));
            for (Entry e : mine) {
                Entry placed = new Entry(e.prompt(), e.kind(), e.name(), e.dtype(), e.shape(), offset);
                out.add(placed);
                offset += placed.bytes();
            }
        }
        java.util.Map<String, Entry> byName = new java.util.HashMap<>();
        for (Entry e : out) byName.put(e.name(), e);
        return new DumpLayout(List.copyOf(out), java.util.Map.copyOf(byName), offset);
    }

    private static Entry entry(int prompt, Kind kind, String dtype, long... shape) {
        return new Entry(prompt, kind, name(prompt, kind), dtype, shape, 0);
    }

    static String name(int prompt, Kind kind) {
        return "p" + prompt + "." + switch (kind) {
            case TOKENS -> "tokens";
            case LOGITS -> "logits";
            case TOPK_IDS -> "topk_ids";
            case TOPK_LOGITS -> "topk_logits";
            case HIDDEN -> "hidden";
        };
    }

    Entry find(int prompt, Kind kind) {
        Entry e = byName.get(name(prompt, kind));
        if (e == null) throw new IllegalArgumentException("no tensor " + name(prompt, kind));
        return e;
    }
}
