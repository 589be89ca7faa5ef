package io.basalt.structured;

import io.basalt.structured.Nodes.Arr;
import io.basalt.structured.Nodes.Lit;
import io.basalt.structured.Nodes.Node;
import io.basalt.structured.Nodes.Num;
import io.basalt.structured.Nodes.Obj;
import io.basalt.structured.Nodes.Str;
import io.basalt.structured.Nodes.Union;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The byte-level pushdown automaton over a compiled schema. A {@link State} is a small set of
 * persistent stacks (more than one only while anyOf branches are undecided); stepping a byte never
 * mutates a state, so the trie walk keeps one state per depth and backtracks for free. Every frame
 * only admits bytes after which the value can still be completed within the depth bound, so a
 * matcher never reaches a dead end.
 */
final class Automaton {
    static final int MAX_WS = 20;
    private static final int MAX_ALTS = 128;

    final Node root;
    final boolean compact;
    final int maxFrames;
    private final Str keyString = new Str(0, Integer.MAX_VALUE, null, false);
    private final Str keyStringNoEscapes = new Str(0, Integer.MAX_VALUE, null, true);

    Automaton(Node root, boolean compact, int maxValueDepth) {
        this.root = root;
        this.compact = compact;
        this.maxFrames = 2 * maxValueDepth + 1;
    }

    State initial() { return new State(new Stack[] {new Stack(new Root(0, 0), null)}); }

    // ---------------------------------------------------------------- frames
    sealed interface Frame permits Root, ObjF, KeyF, ArrF, StrF, NumF, LitF {}

    /** phase 0: before the value (leading whitespace), 1: in it, 2: done. */
    record Root(int phase, int ws) implements Frame {}

    static final int O_OPEN = 0, O_KEY = 1, O_AFTER_KEY = 2, O_COLON = 3, O_VALUE = 4, O_AFTER_VALUE = 5, O_COMMA = 6;

    /** next: first declared property not yet passed; cur: the property being read (-1: an additional one). */
    record ObjF(Obj node, int phase, int next, int cur, int ws) implements Frame {}

    record KeyF(Obj node, int next, int to, int trie) implements Frame {}

    static final int A_OPEN = 0, A_VALUE = 1, A_AFTER_VALUE = 2, A_COMMA = 3;

    record ArrF(Arr node, int phase, int count, int ws) implements Frame {}

    /**
     * esc: 0 none, 1 after '\', 2..5 reading \\u hex digit (esc-2) [10: second digit after a 'd', must be 0-7];
     * rem: UTF-8 continuation bytes still due, cp their partial value, cpMin the smallest code point of that length.
     */
    record StrF(Str node, int len, int esc, int rem, int cp, int cpMin, int dfa, Obj keyOf, int keyTrie) implements Frame {}

    static final int N_SIGN = 0, N_ZERO = 1, N_INT = 2, N_DOT = 3, N_FRAC = 4, N_E = 5, N_ESIGN = 6, N_EXP = 7;

    record NumF(Num node, int phase, boolean neg, long mag, int digits, long frac, int fdigits, int edigits) implements Frame {}

    record LitF(Lit node, int trie) implements Frame {}

    // ---------------------------------------------------------------- stacks and states
    static final class Stack {
        final Frame top;
        final Stack parent;
        final int depth;
        final int hash;

        Stack(Frame top, Stack parent) {
            this.top = top;
            this.parent = parent;
            this.depth = parent == null ? 1 : parent.depth + 1;
            this.hash = top.hashCode() * 31 + (parent == null ? 0 : parent.hash);
        }

        @Override public int hashCode() { return hash; }

        @Override public boolean equals(Object o) {
            if (this == o) return true;
            if (!(o instanceof Stack s) || s.hash != hash || s.depth != depth) return false;
            Stack a = this, b = s;
            while (a != null) {
                if (a == b) return true;
                if (!a.top.equals(b.top)) return false;
                a = a.parent;
                b = b.parent;
            }
            return true;
        }
    }

    static final class State {
        final Stack[] alts;
        final int hash;

        State(Stack[] alts) {
            this.alts = alts;
            this.hash = Arrays.hashCode(alts);
        }

        @Override public int hashCode() { return hash; }

        @Override public boolean equals(Object o) { return o instanceof State s && s.hash == hash && Arrays.equals(alts, s.alts); }
    }

    /** The state after byte b, or null when no stack can take it. */
    State advance(State s, int b, List<Stack> scratch) {
        scratch.clear();
        for (Stack st : s.alts) step(st, b, scratch);
        int n = scratch.size();
        if (n == 0) return null;
        if (n == 1) return new State(new Stack[] {scratch.get(0)});
        List<Stack> unique = new ArrayList<>(n);
        for (Stack x : scratch) {
            if (unique.size() == MAX_ALTS) break;
            if (!unique.contains(x)) unique.add(x);
        }
        return new State(unique.toArray(Stack[]::new));
    }

    boolean accepting(State s) {
        for (Stack st : s.alts) {
            Stack x = st;
            while (true) {
                if (x.top instanceof Root r && r.phase == 2) return true;
                if (!completeOpen(x.top)) break;
                x = pop(x);
            }
        }
        return false;
    }

    boolean terminated(State s) {
        for (Stack st : s.alts) if (!(st.top instanceof Root r && r.phase == 2)) return false;
        return true;
    }

    // ---------------------------------------------------------------- stepping
    private static boolean isWs(int b) { return b == ' ' || b == '\n' || b == '\t' || b == '\r'; }

    private boolean wsOk(int b, int ws) { return !compact && ws < MAX_WS && isWs(b); }

    private static Stack replace(Stack s, Frame f) { return new Stack(f, s.parent); }

    private static Stack push(Stack s, Frame f) { return new Stack(f, s); }

    /** Ends the top frame: the parent learns that its child value is complete. */
    private static Stack pop(Stack s) {
        Stack p = s.parent;
        Frame parentDone = switch (p.top) {
            case Root r -> new Root(2, 0);
            case ObjF o -> o.cur >= 0
                    ? new ObjF(o.node, O_AFTER_VALUE, o.cur + 1, -1, 0)
                    : new ObjF(o.node, O_AFTER_VALUE, o.node.names.length, -1, 0);
            case ArrF a -> new ArrF(a.node, A_AFTER_VALUE, a.count + 1, 0);
            default -> throw new IllegalStateException("no value child under " + p.top);
        };
        return new Stack(parentDone, p.parent);
    }

    private boolean completeOpen(Frame f) {
        return switch (f) {
            case NumF n -> numComplete(n);
            case LitF l -> l.node.trie.value[l.trie] >= 0;
            default -> false;
        };
    }

    void step(Stack s, int b, List<Stack> out) {
        switch (s.top) {
            case Root r -> {
                if (r.phase != 0) return;
                if (wsOk(b, r.ws)) out.add(replace(s, new Root(0, r.ws + 1)));
                else startValue(root, b, replace(s, new Root(1, 0)), out);
            }
            case ObjF o -> objStep(s, o, b, out);
            case KeyF k -> {
                int c = k.node.keys.child(k.trie, b);
                if (c < 0) return;
                int v = k.node.keys.value[c];
                if (v >= 0) {
                    if (v >= k.next && v <= k.to && depthOk(s.depth - 1, k.node.values[v])) {
                        ObjF o = (ObjF) s.parent.top;
                        out.add(new Stack(new ObjF(o.node, O_AFTER_KEY, o.next, v, 0), s.parent.parent));
                    }
                    return;
                }
                if (eligibleBelow(k.node, c, k.next, k.to, s.depth - 1)) out.add(replace(s, new KeyF(k.node, k.next, k.to, c)));
            }
            case ArrF a -> arrStep(s, a, b, out);
            case StrF f -> strStep(s, f, b, out);
            case NumF n -> {
                if (!numStep(s, n, b, out) && numComplete(n)) step(pop(s), b, out);
            }
            case LitF l -> {
                int c = l.node.trie.child(l.trie, b);
                if (c >= 0) {
                    if (l.node.trie.value[c] >= 0 && !l.node.trie.hasChildren(c)) out.add(pop(s));
                    else out.add(replace(s, new LitF(l.node, c)));
                } else if (l.node.trie.value[l.trie] >= 0) {
                    step(pop(s), b, out);
                }
            }
        }
    }

    private boolean depthOk(int parentDepth, Node n) { return parentDepth + n.deref().minDepth <= maxFrames; }

    private boolean eligibleBelow(Obj o, int trieNode, int from, int to, int objDepth) {
        for (int idx : o.keys.below[trieNode]) {
            if (idx > to) return false;
            if (idx >= from && depthOk(objDepth, o.values[idx])) return true;
        }
        return false;
    }

    private void startValue(Node n0, int b, Stack parent, List<Stack> out) {
        Node n = n0.deref();
        if (parent.depth + n.minDepth > maxFrames) return;
        switch (n) {
            case Union u -> { for (Node a : u.alts) startValue(a, b, parent, out); }
            case Obj o -> { if (b == '{') out.add(push(parent, new ObjF(o, O_OPEN, 0, -1, 0))); }
            case Arr a -> { if (b == '[') out.add(push(parent, new ArrF(a, A_OPEN, 0, 0))); }
            case Str s -> {
                if (b == '"') out.add(push(parent, new StrF(s, 0, 0, 0, 0, 0, s.regex == null ? -1 : s.regex.startState(), null, -1)));
            }
            case Num x -> numStart(parent, x, b, out);
            case Lit l -> {
                int c = l.trie.child(0, b);
                if (c < 0) return;
                if (l.trie.value[c] >= 0 && !l.trie.hasChildren(c)) out.add(new Stack(pop(push(parent, new LitF(l, c))).top, parent.parent));
                else out.add(push(parent, new LitF(l, c)));
            }
            default -> throw new IllegalStateException();
        }
    }

    // ---- objects
    private void objStep(Stack s, ObjF o, int b, List<Stack> out) {
        Obj node = o.node;
        int n = node.names.length;
        int objDepth = s.depth;
        switch (o.phase) {
            case O_OPEN, O_COMMA -> {
                if (wsOk(b, o.ws)) { out.add(replace(s, new ObjF(node, o.phase, o.next, -1, o.ws + 1))); return; }
                if (b == '"') keyStart(s, o, out);
                else if (b == '}' && o.phase == O_OPEN && node.nextRequired[o.next] == n) out.add(pop(s));
            }
            case O_AFTER_KEY -> {
                if (wsOk(b, o.ws)) out.add(replace(s, new ObjF(node, o.phase, o.next, o.cur, o.ws + 1)));
                else if (b == ':') out.add(replace(s, new ObjF(node, O_COLON, o.next, o.cur, 0)));
            }
            case O_COLON -> {
                if (wsOk(b, o.ws)) { out.add(replace(s, new ObjF(node, o.phase, o.next, o.cur, o.ws + 1))); return; }
                Node v = o.cur >= 0 ? node.values[o.cur] : node.additional;
                startValue(v, b, replace(s, new ObjF(node, O_VALUE, o.next, o.cur, 0)), out);
            }
            case O_AFTER_VALUE -> {
                if (wsOk(b, o.ws)) out.add(replace(s, new ObjF(node, o.phase, o.next, -1, o.ws + 1)));
                else if (b == ',' && (declaredEligible(node, o.next, objDepth) || additionalEligible(node, o.next, objDepth))) {
                    out.add(replace(s, new ObjF(node, O_COMMA, o.next, -1, 0)));
                } else if (b == '}' && node.nextRequired[o.next] == n) out.add(pop(s));
            }
            default -> { }
        }
    }

    private boolean declaredEligible(Obj node, int next, int objDepth) {
        int n = node.names.length;
        if (next >= n) return false;
        int to = Math.min(node.nextRequired[next], n - 1);
        for (int i = next; i <= to; i++) if (depthOk(objDepth, node.values[i])) return true;
        return false;
    }

    private boolean additionalEligible(Obj node, int next, int objDepth) {
        return node.additional != null && node.nextRequired[next] == node.names.length && depthOk(objDepth, node.additional);
    }

    private void keyStart(Stack s, ObjF o, List<Stack> out) {
        Obj node = o.node;
        int n = node.names.length;
        if (declaredEligible(node, o.next, s.depth)) {
            Stack parent = replace(s, new ObjF(node, O_KEY, o.next, -1, 0));
            out.add(push(parent, new KeyF(node, o.next, Math.min(node.nextRequired[o.next], n - 1), 0)));
        }
        if (additionalEligible(node, o.next, s.depth)) {
            Stack parent = replace(s, new ObjF(node, O_KEY, n, -1, 0));
            Str ks = n == 0 ? keyString : keyStringNoEscapes;
            out.add(push(parent, new StrF(ks, 0, 0, 0, 0, 0, -1, n == 0 ? null : node, n == 0 ? -1 : 0)));
        }
    }

    // ---- arrays
    private void arrStep(Stack s, ArrF a, int b, List<Stack> out) {
        Arr node = a.node;
        switch (a.phase) {
            case A_OPEN, A_COMMA -> {
                if (wsOk(b, a.ws)) { out.add(replace(s, new ArrF(node, a.phase, a.count, a.ws + 1))); return; }
                if (b == ']' && a.phase == A_OPEN) { if (node.min == 0) out.add(pop(s)); return; }
                if (itemEligible(node, a.count, s.depth)) startValue(node.item(a.count), b, replace(s, new ArrF(node, A_VALUE, a.count, 0)), out);
            }
            case A_AFTER_VALUE -> {
                if (wsOk(b, a.ws)) out.add(replace(s, new ArrF(node, a.phase, a.count, a.ws + 1)));
                else if (b == ',' && itemEligible(node, a.count, s.depth)) out.add(replace(s, new ArrF(node, A_COMMA, a.count, 0)));
                else if (b == ']' && a.count >= node.min) out.add(pop(s));
            }
            default -> { }
        }
    }

    private boolean itemEligible(Arr node, int count, int arrDepth) {
        if (count >= node.max) return false;
        Node it = node.item(count);
        return it != null && depthOk(arrDepth, it);
    }

    // ---- strings
    private void strStep(Stack s, StrF f, int b, List<Stack> out) {
        Str node = f.node;
        if (f.esc == 1) {
            int len = f.len + 1;
            if (len > node.max) return;
            if (b == '"' || b == '\\' || b == '/' || b == 'b' || b == 'f' || b == 'n' || b == 'r' || b == 't') {
                out.add(replace(s, withChar(f, len, f.dfa, f.keyTrie < 0 ? -1 : -1)));
            } else if (b == 'u') {
                out.add(replace(s, new StrF(node, f.len, 2, 0, 0, 0, f.dfa, f.keyOf, -1)));
            }
            return;
        }
        if (f.esc >= 2) {
            boolean hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
            if (!hex) return;
            int esc;
            if (f.esc == 2) esc = (b == 'd' || b == 'D') ? 10 : 3;      // no surrogates: \\uD800-\\uDFFF refused
            else if (f.esc == 10) { if (b > '7') return; esc = 4; }
            else esc = f.esc + 1;
            if (esc == 6) out.add(replace(s, withChar(f, f.len + 1, f.dfa, -1)));
            else out.add(replace(s, new StrF(node, f.len, esc, 0, 0, 0, f.dfa, f.keyOf, -1)));
            return;
        }
        if (f.rem > 0) {
            if ((b & 0xC0) != 0x80) return;
            int cp = (f.cp << 6) | (b & 0x3F);
            int rem = f.rem - 1;
            int lo = cp << (6 * rem), hi = lo | ((1 << (6 * rem)) - 1);
            lo = Math.max(lo, f.cpMin);
            hi = Math.min(hi, 0x10FFFF);
            if (lo > hi || (lo >= 0xD800 && hi <= 0xDFFF)) return;
            int keyTrie = f.keyTrie >= 0 ? f.keyOf.keys.child(f.keyTrie, b) : -1;
            if (rem == 0) {
                int dfa = f.dfa;
                if (node.regex != null) {
                    dfa = node.regex.step(dfa, cp);
                    if (dfa < 0 || (node.max != Integer.MAX_VALUE && f.len + node.regex.minRemaining(dfa) > node.max)) return;
                }
                out.add(replace(s, new StrF(node, normLen(node, f.len), 0, 0, 0, 0, dfa, f.keyOf, keyTrie)));
            } else {
                if (node.regex != null && !regexAny(node, f, lo, hi)) return;
                out.add(replace(s, new StrF(node, f.len, 0, rem, cp, f.cpMin, f.dfa, f.keyOf, keyTrie)));
            }
            return;
        }
        if (b == '"') {
            if (f.len < node.min) return;
            if (node.regex != null && !node.regex.accepting(f.dfa)) return;
            if (f.keyOf != null && f.keyTrie >= 0) {
                int c = f.keyOf.keys.child(f.keyTrie, '"');
                if (c >= 0 && f.keyOf.keys.value[c] >= 0) return;  // a declared name is not an additional property
            }
            if (f.keyOf != null || node == keyString) {
                ObjF o = (ObjF) s.parent.top;
                out.add(new Stack(new ObjF(o.node, O_AFTER_KEY, o.next, -1, 0), s.parent.parent));
            } else {
                out.add(pop(s));
            }
            return;
        }
        if (b == '\\') {
            if (node.noEscapes || f.len + 1 > node.max) return;
            out.add(replace(s, new StrF(node, f.len, 1, 0, 0, 0, f.dfa, f.keyOf, -1)));
            return;
        }
        if (b < 0x20) return;
        int len = f.len + 1;
        if (len > node.max) return;
        int keyTrie = f.keyTrie >= 0 ? f.keyOf.keys.child(f.keyTrie, b) : -1;
        if (b < 0x80) {
            int dfa = f.dfa;
            if (node.regex != null) {
                dfa = node.regex.step(dfa, b);
                if (dfa < 0 || (node.max != Integer.MAX_VALUE && f.len + 1 + node.regex.minRemaining(dfa) > node.max)) return;
            }
            out.add(replace(s, new StrF(node, normLen(node, len), 0, 0, 0, 0, dfa, f.keyOf, keyTrie)));
            return;
        }
        int rem, cp, cpMin;
        if (b >= 0xC2 && b <= 0xDF) { rem = 1; cp = b & 0x1F; cpMin = 0x80; }
        else if (b >= 0xE0 && b <= 0xEF) { rem = 2; cp = b & 0x0F; cpMin = 0x800; }
        else if (b >= 0xF0 && b <= 0xF4) { rem = 3; cp = b & 0x07; cpMin = 0x10000; }
        else return;
        int lo = Math.max(cp << (6 * rem), cpMin), hi = Math.min((cp << (6 * rem)) | ((1 << (6 * rem)) - 1), 0x10FFFF);
        if (lo > hi) return;
        StrF next = new StrF(node, len, 0, rem, cp, cpMin, f.dfa, f.keyOf, keyTrie);
        if (node.regex != null && !regexAny(node, next, lo, hi)) return;
        out.add(replace(s, next));
    }

    /** len already counts the pending character. */
    private static boolean regexAny(Str node, StrF f, int lo, int hi) {
        int budget = node.max == Integer.MAX_VALUE ? Integer.MAX_VALUE : node.max - f.len + 1;
        return node.regex.anyLive(f.dfa, lo, hi, budget);
    }

    private StrF withChar(StrF f, int len, int dfa, int keyTrie) {
        return new StrF(f.node, normLen(f.node, len), 0, 0, 0, 0, dfa, f.keyOf, keyTrie);
    }

    /** Past minLength, an unbounded string's length no longer matters: cap it so that states repeat. */
    private static int normLen(Str node, int len) {
        return node.max == Integer.MAX_VALUE && node.regex == null ? Math.min(len, node.min) : len;
    }

    // ---- numbers
    private static final long[] POW10 = new long[19];
    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) POW10[i] = POW10[i - 1] * 10;
    }

    private void numStart(Stack parent, Num x, int b, List<Stack> out) {
        NumF f = null;
        if (b == '-') {
            boolean neg = !x.bounded || (x.integer ? x.lo <= -1 : x.dlo < 0);
            if (neg) f = new NumF(x, N_SIGN, true, 0, 0, 0, 0, 0);
        } else if (b == '0') {
            if (intFeasible(x, false, 0, 1)) f = new NumF(x, N_ZERO, false, 0, 1, 0, 0, 0);
        } else if (b >= '1' && b <= '9') {
            if (intFeasible(x, false, b - '0', 1)) f = new NumF(x, N_INT, false, b - '0', 1, 0, 0, 0);
        }
        if (f != null) out.add(push(parent, f));
    }

    /** Whether an integer part that starts with mag (digits long) can still end in range. */
    private static boolean intFeasible(Num x, boolean neg, long mag, int digits) {
        if (!x.bounded) return true;
        boolean zero = mag == 0;
        for (int j = 0; j <= Num.MAX_INT_DIGITS - digits; j++) {
            long a = mag * POW10[j], bb = a + POW10[j] - 1;
            if (x.integer) {
                long lo = neg ? -bb : a, hi = neg ? -a : bb;
                if (lo <= x.hi && hi >= x.lo) return true;
            } else {
                // values [a, bb+1) (or their negation, open at the far end) against [dlo, dhi]
                if (!neg) { if (a <= x.dhi && bb + 1 > x.dlo) return true; }
                else { if (-a >= x.dlo && -(bb + 1) < x.dhi) return true; }
            }
            if (zero) break;
        }
        return false;
    }

    private static double value(NumF n) {
        double v = n.mag + (n.fdigits == 0 ? 0 : n.frac / (double) POW10[n.fdigits]);
        return n.neg ? -v : v;
    }

    private static boolean numComplete(NumF n) {
        Num x = n.node;
        if (n.phase != N_ZERO && n.phase != N_INT && n.phase != N_FRAC && n.phase != N_EXP) return false;
        if (!x.bounded) return true;
        if (x.integer) {
            long v = n.neg ? -n.mag : n.mag;
            return v >= x.lo && v <= x.hi;
        }
        double v = value(n);
        return v >= x.dlo && v <= x.dhi;
    }

    /** Consumes b if the number can take it; false otherwise. */
    private boolean numStep(Stack s, NumF n, int b, List<Stack> out) {
        Num x = n.node;
        boolean digit = b >= '0' && b <= '9';
        int d = b - '0';
        NumF next = null;
        switch (n.phase) {
            case N_SIGN -> {
                if (b == '0') { if (!x.integer && intFeasible(x, true, 0, 1)) next = new NumF(x, N_ZERO, true, 0, 1, 0, 0, 0); }
                else if (digit && intFeasible(x, true, d, 1)) next = new NumF(x, N_INT, true, d, 1, 0, 0, 0);
            }
            case N_ZERO, N_INT -> {
                if (digit && n.phase == N_INT && n.digits < Num.MAX_INT_DIGITS && intFeasible(x, n.neg, n.mag * 10 + d, n.digits + 1)) {
                    next = new NumF(x, N_INT, n.neg, n.mag * 10 + d, n.digits + 1, 0, 0, 0);
                } else if (b == '.' && !x.integer && fracFeasible(x, n.neg, n.mag, 0, 0)) {
                    next = new NumF(x, N_DOT, n.neg, n.mag, n.digits, 0, 0, 0);
                } else if ((b == 'e' || b == 'E') && !x.integer && !x.bounded) {
                    next = new NumF(x, N_E, n.neg, n.mag, n.digits, 0, 0, 0);
                }
            }
            case N_DOT, N_FRAC -> {
                if (digit && n.fdigits < Num.MAX_FRAC_DIGITS && fracFeasible(x, n.neg, n.mag, n.frac * 10 + d, n.fdigits + 1)) {
                    next = new NumF(x, N_FRAC, n.neg, n.mag, n.digits, n.frac * 10 + d, n.fdigits + 1, 0);
                } else if ((b == 'e' || b == 'E') && n.phase == N_FRAC && !x.bounded) {
                    next = new NumF(x, N_E, n.neg, n.mag, n.digits, n.frac, n.fdigits, 0);
                }
            }
            case N_E -> {
                if (b == '+' || b == '-') next = new NumF(x, N_ESIGN, n.neg, n.mag, n.digits, n.frac, n.fdigits, 0);
                else if (digit) next = new NumF(x, N_EXP, n.neg, n.mag, n.digits, n.frac, n.fdigits, 1);
            }
            case N_ESIGN, N_EXP -> {
                if (digit && n.edigits < Num.MAX_EXP_DIGITS) next = new NumF(x, N_EXP, n.neg, n.mag, n.digits, n.frac, n.fdigits, n.edigits + 1);
            }
            default -> { }
        }
        if (next == null) return false;
        out.add(replace(s, next));
        return true;
    }

    /** With the fraction so far (frac over fdigits), can the value still end in [dlo, dhi]? */
    private static boolean fracFeasible(Num x, boolean neg, long mag, long frac, int fdigits) {
        if (!x.bounded) return true;
        double scale = POW10[fdigits];
        double lo = mag + frac / scale, hi = mag + (frac + 1) / scale;   // [lo, hi)
        if (fdigits == 0) hi = mag + 1;
        if (!neg) return lo <= x.dhi && hi > x.dlo;
        return -lo >= x.dlo && -hi < x.dhi;
    }
}
