package io.basalt.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The compiled schema: a graph of value nodes (cycles only through {@link Ref}). Immutable once built. */
final class Nodes {
    private Nodes() {}

    static final int INF = Integer.MAX_VALUE / 4;

    abstract static sealed class Node permits Obj, Arr, Str, Num, Lit, Union, Ref {
        /** Fewest stack frames a complete value of this node needs (INF: none exists). */
        int minDepth = INF;

        Node deref() { return this; }
    }

    /** An object: declared properties in order (optional ones may be skipped), then additional ones. */
    static final class Obj extends Node {
        final String[] names;
        final Node[] values;
        final boolean[] required;
        final Node additional;          // null: no other keys
        final ByteTrie keys;            // each name's JSON string body + '"'; value = property index
        final int[] nextRequired;       // nextRequired[i] = first required index ≥ i, or names.length

        Obj(String[] names, Node[] values, boolean[] required, Node additional) {
            this.names = names;
            this.values = values;
            this.required = required;
            this.additional = additional;
            byte[][] k = new byte[names.length][];
            for (int i = 0; i < names.length; i++) k[i] = Json.keyBytes(names[i]);
            this.keys = new ByteTrie(k);
            this.nextRequired = new int[names.length + 1];
            nextRequired[names.length] = names.length;
            for (int i = names.length - 1; i >= 0; i--) nextRequired[i] = required[i] ? i : nextRequired[i + 1];
        }
    }

    static final class Arr extends Node {
        final Node[] prefix;
        final Node items;               // null: no items after the prefix
        final int min, max;

        Arr(Node[] prefix, Node items, int min, int max) {
            this.prefix = prefix;
            this.items = items;
            this.min = min;
            this.max = items == null ? Math.min(max, prefix.length) : max;
        }

        Node item(int i) { return i < prefix.length ? prefix[i] : items; }
    }

    /** A string of [min, max] code points; with a pattern, only unescaped characters. */
    static final class Str extends Node {
        final int min, max;
        final Regex regex;
        final boolean noEscapes;

        Str(int min, int max, Regex regex, boolean noEscapes) {
            this.min = min;
            this.max = max;
            this.regex = regex;
            this.noEscapes = noEscapes || regex != null;
        }

        boolean unconstrained() { return regex == null && !noEscapes; }
    }

    /** A JSON number (or integer), bounded in length; bounds enforced on the integer part (see NumFrame). */
    static final class Num extends Node {
        static final int MAX_INT_DIGITS = 16, MAX_FRAC_DIGITS = 16, MAX_EXP_DIGITS = 3;
        static final long MAX_MAG = 9_999_999_999_999_999L;
        final boolean integer;
        final boolean bounded;
        final long lo, hi;              // integer-part bounds (inclusive)
        final double dlo, dhi;          // exact bounds for numbers (inclusive)

        Num(boolean integer, boolean bounded, long lo, long hi, double dlo, double dhi) {
            this.integer = integer;
            this.bounded = bounded;
            this.lo = lo;
            this.hi = hi;
            this.dlo = dlo;
            this.dhi = dhi;
        }
    }

    /** One of a fixed set of JSON texts (enum, const, true/false/null), compact. */
    static final class Lit extends Node {
        final ByteTrie trie;
        final List<byte[]> texts;

        Lit(List<byte[]> texts) {
            this.texts = texts;
            this.trie = new ByteTrie(texts.toArray(byte[][]::new));
        }
    }

    static final class Union extends Node {
        Node[] alts;
        Union(Node[] alts) { this.alts = alts; }
    }

    static final class Ref extends Node {
        Node target;
        final String pointer;
        Ref(String pointer) { this.pointer = pointer; }

        @Override Node deref() {
            Node n = this;
            for (int i = 0; i < 64 && n instanceof Ref r; i++) n = r.target;
            return n;
        }
    }

    /** Fewest frames per node, by fixpoint over the (possibly cyclic) graph. */
    static void computeMinDepth(List<Node> all) {
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Node n : all) {
                int d = switch (n) {
                    case Str s -> 1;
                    case Num x -> 1;
                    case Lit l -> l.texts.isEmpty() ? INF : 1;
                    case Union u -> {
                        int m = INF;
                        for (Node a : u.alts) m = Math.min(m, a.minDepth);
                        yield m;
                    }
                    case Ref r -> r.target == null ? INF : r.target.minDepth;
                    case Obj o -> {
                        int m = 1;
                        for (int i = 0; i < o.values.length; i++) if (o.required[i]) m = Math.max(m, o.values[i].minDepth);
                        yield m >= INF ? INF : 1 + m;
                    }
                    case Arr a -> {
                        if (a.min > a.max) yield INF;
                        int m = 0;
                        for (int i = 0; i < a.min; i++) {
                            Node it = a.item(i);
                            m = Math.max(m, it == null ? INF : it.minDepth);
                        }
                        yield m >= INF ? INF : 1 + m;
                    }
                };
                if (d < n.minDepth) { n.minDepth = d; changed = true; }
            }
        }
    }

    /** A small byte trie (keys, literals): node 0 is the root. */
    static final class ByteTrie {
        private int[] childStart;          // children of node i: childByte/childNode[childStart[i] .. childStart[i+1])
        private byte[] childByte;
        private int[] childNode;
        final int[] value;                 // index of the string ending here, or -1
        final int[][] below;               // sorted indices of strings in the subtree
        final int nodes;

        ByteTrie(byte[][] strings) {
            List<int[]> edges = new ArrayList<>(); // {parent, byte, child}
            List<Integer> vals = new ArrayList<>();
            vals.add(-1);
            java.util.Map<Long, Integer> map = new java.util.HashMap<>();
            for (int s = 0; s < strings.length; s++) {
                int node = 0;
                for (byte b : strings[s]) {
                    long key = ((long) node << 8) | (b & 0xFF);
                    Integer c = map.get(key);
                    if (c == null) {
                        c = vals.size();
                        vals.add(-1);
                        map.put(key, c);
                        edges.add(new int[] {node, b & 0xFF, c});
                    }
                    node = c;
                }
                if (vals.get(node) < 0) vals.set(node, s);
            }
            nodes = vals.size();
            value = vals.stream().mapToInt(Integer::intValue).toArray();
            edges.sort((x, y) -> x[0] != y[0] ? Integer.compare(x[0], y[0]) : Integer.compare(x[1], y[1]));
            childStart = new int[nodes + 1];
            childByte = new byte[edges.size()];
            childNode = new int[edges.size()];
            for (int[] e : edges) childStart[e[0] + 1]++;
            for (int i = 0; i < nodes; i++) childStart[i + 1] += childStart[i];
            for (int k = 0; k < edges.size(); k++) { childByte[k] = (byte) edges.get(k)[1]; childNode[k] = edges.get(k)[2]; }
            // subtree contents: children have larger ids than parents, so fold from the end
            List<List<Integer>> acc = new ArrayList<>();
            for (int i = 0; i < nodes; i++) acc.add(new ArrayList<>());
            int[] parent = new int[nodes];
            for (int[] e : edges) parent[e[2]] = e[0];
            for (int i = nodes - 1; i >= 0; i--) {
                if (value[i] >= 0) acc.get(i).add(value[i]);
                if (i > 0) acc.get(parent[i]).addAll(acc.get(i));
            }
            below = new int[nodes][];
            for (int i = 0; i < nodes; i++) {
                int[] a = acc.get(i).stream().mapToInt(Integer::intValue).distinct().toArray();
                Arrays.sort(a);
                below[i] = a;
            }
        }

        int child(int node, int b) {
            for (int k = childStart[node]; k < childStart[node + 1]; k++) if ((childByte[k] & 0xFF) == b) return childNode[k];
            return -1;
        }

        boolean hasChildren(int node) { return childStart[node + 1] > childStart[node]; }
    }
}
