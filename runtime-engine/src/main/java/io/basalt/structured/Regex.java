package io.basalt.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON Schema {@code pattern} (ECMA-262 subset: literals, classes, {@code . \d \w \s}, groups,
 * alternation, {@code * + ? {n,m}}, anchors at the ends) over the code points a JSON string may hold
 * unescaped. Thompson NFA, determinized lazily; every DFA state knows how many more characters it
 * needs, so a string constrained by a pattern and a maxLength never walks into a dead end.
 * Lookaround, backreferences, word boundaries, flags and Unicode properties are refused.
 */
final class Regex {
    /** Code points a pattern-constrained string may contain unescaped. */
    static final int[] STRING_CHARS = {0x20, 0x21, 0x23, 0x5B, 0x5D, 0xD7FF, 0xE000, 0x10FFFF};
    private static final int MAX_STATES = 20_000;

    // ---- NFA ----
    private int n;
    private int[][] ranges = new int[64][];   // char edge ranges (sorted pairs), null if none
    private int[] charTo = new int[64], eps1 = new int[64], eps2 = new int[64];
    private int start, accept;
    private int[] dist;                        // min characters to reach accept

    // ---- lazy DFA ----
    private final Map<Key, Integer> index = new HashMap<>();
    private volatile DState[] table = new DState[16];
    private int dfaCount;
    private final String source;

    private static final class DState {
        final int[] nfa;
        final boolean accepting;
        final int minRemaining;
        final int[] ascii = new int[128];
        /** Code points >= 128 fall in intervals [bounds[i], bounds[i+1]) that every edge of this state treats alike; targets[i]: -2 unknown. */
        final int[] bounds, targets;
        DState(int[] nfa, boolean accepting, int minRemaining, int[] bounds) {
            this.nfa = nfa; this.accepting = accepting; this.minRemaining = minRemaining;
            Arrays.fill(ascii, -2);
            this.bounds = bounds;
            this.targets = new int[bounds.length];
            Arrays.fill(targets, -2);
        }
    }

    private record Key(int[] set) {
        @Override public boolean equals(Object o) { return o instanceof Key k && Arrays.equals(set, k.set); }
        @Override public int hashCode() { return Arrays.hashCode(set); }
    }

    private Regex(String source) { this.source = source; }

    /** @throws IllegalArgumentException (message = the reason) for what the subset refuses */
    static Regex compile(String pattern) {
        Regex r = new Regex(pattern);
        Parser p = new Parser(pattern);
        List<Ast> branches = new ArrayList<>();
        List<boolean[]> anchors = new ArrayList<>();
        // Top-level branches, each anchored or not at either end.
        do {
            boolean a0 = p.eat('^');
            Ast body = p.concat();
            boolean a1 = p.eat('$');
            branches.add(body);
            anchors.add(new boolean[] {a0, a1});
        } while (p.eat('|'));
        if (p.pos < pattern.length()) throw new IllegalArgumentException("unsupported pattern syntax at " + p.pos + " ('" + pattern.charAt(p.pos) + "')");
        Ast any = new Rep(new Chars(STRING_CHARS), 0, -1);
        List<Ast> alts = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) {
            List<Ast> seq = new ArrayList<>();
            if (!anchors.get(i)[0]) seq.add(any);
            seq.add(branches.get(i));
            if (!anchors.get(i)[1]) seq.add(any);
            alts.add(new Cat(seq));
        }
        int[] frag = r.build(alts.size() == 1 ? alts.get(0) : new Alt(alts));
        r.start = frag[0];
        r.accept = frag[1];
        r.computeDistances();
        for (int q = 0; q < r.n; q++) if (r.dist[q] != Integer.MAX_VALUE) r.maxFiniteDist = Math.max(r.maxFiniteDist, r.dist[q]);
        if (r.dist[r.start] == Integer.MAX_VALUE) throw new IllegalArgumentException("the pattern matches no JSON string");
        r.intern(r.closure(new int[] {r.start}));
        return r;
    }

    String source() { return source; }

    int startState() { return 0; }

    boolean accepting(int s) { return table[s].accepting; }

    int minRemaining(int s) { return table[s].minRemaining; }

    /** The state after code point {@code cp}, or -1 when no match can follow. */
    int step(int s, int cp) {
        DState d = table[s];
        if (cp < 128) {
            int t = d.ascii[cp];
            if (t != -2) return t;
        }
        int cls = -1;
        if (cp >= 128) {
            cls = Arrays.binarySearch(d.bounds, cp);
            if (cls < 0) cls = -cls - 2;
            int t = d.targets[cls];
            if (t != -2) return t;
        }
        int t;
        synchronized (this) {
            t = computeStep(d, cp);
        }
        if (cp < 128) d.ascii[cp] = t;
        else d.targets[cls] = t;          // benign race: every writer stores the same id
        return t;
    }

    /** Whether some code point in [lo, hi] leads from {@code s} to a state that can still accept within {@code budget} more characters (this one included). */
    boolean anyLive(int s, int lo, int hi, int budget) {
        for (int q : table[s].nfa) {
            int[] r = ranges[q];
            if (r == null) continue;
            int t = charTo[q];
            if (dist[t] == Integer.MAX_VALUE || dist[t] + 1 > budget) continue;
            for (int k = 0; k < r.length; k += 2) if (r[k] <= hi && r[k + 1] >= lo) return true;
        }
        return false;
    }

    private int computeStep(DState d, int cp) {
        int[] buf = new int[d.nfa.length];
        int m = 0;
        for (int q : d.nfa) {
            int[] r = ranges[q];
            if (r == null) continue;
            for (int k = 0; k < r.length; k += 2) {
                if (cp >= r[k] && cp <= r[k + 1]) { buf[m++] = charTo[q]; break; }
            }
        }
        if (m == 0) return -1;
        int[] cl = closure(Arrays.copyOf(buf, m));
        int best = Integer.MAX_VALUE;
        for (int q : cl) best = Math.min(best, dist[q]);
        if (best == Integer.MAX_VALUE) return -1;
        return intern(cl);
    }

    private int intern(int[] set) {
        Key k = new Key(set);
        Integer id = index.get(k);
        if (id != null) return id;
        boolean acc = false;
        int best = Integer.MAX_VALUE;
        for (int q : set) { if (q == accept) acc = true; best = Math.min(best, dist[q]); }
        if (dfaCount == table.length) table = Arrays.copyOf(table, dfaCount * 2);
        DState[] t = table;
        t[dfaCount] = new DState(set, acc, best, bounds(set));
        table = t;
        index.put(k, dfaCount);
        return dfaCount++;
    }

    /** Sorted interval starts (from 128) on which the edges of {@code set} are constant. */
    private int[] bounds(int[] set) {
        int[] b = new int[16];
        int m = 0;
        b[m++] = 128;
        for (int q : set) {
            int[] r = ranges[q];
            if (r == null) continue;
            for (int k = 0; k < r.length; k += 2) {
                if (m + 2 > b.length) b = Arrays.copyOf(b, b.length * 2);
                if (r[k] > 128) b[m++] = r[k];
                if (r[k + 1] + 1 > 128) b[m++] = r[k + 1] + 1;
            }
        }
        int[] s = Arrays.copyOf(b, m);
        Arrays.sort(s);
        int u = 0;
        for (int i = 0; i < s.length; i++) if (u == 0 || s[i] != s[u - 1]) s[u++] = s[i];
        return Arrays.copyOf(s, u);
    }

    private int maxFiniteDist;

    /** The largest finite distance to acceptance over all NFA states: no DFA state's minRemaining exceeds it. */
    int maxFiniteDist() { return maxFiniteDist; }

    private int[] closure(int[] seeds) {
        boolean[] seen = new boolean[n];
        int[] stack = new int[n];
        int sp = 0, count = 0;
        for (int s : seeds) if (!seen[s]) { seen[s] = true; stack[sp++] = s; }
        while (sp > 0) {
            int q = stack[--sp];
            count++;
            if (eps1[q] >= 0 && !seen[eps1[q]]) { seen[eps1[q]] = true; stack[sp++] = eps1[q]; }
            if (eps2[q] >= 0 && !seen[eps2[q]]) { seen[eps2[q]] = true; stack[sp++] = eps2[q]; }
        }
        int[] out = new int[count];
        int m = 0;
        for (int q = 0; q < n; q++) if (seen[q]) out[m++] = q;
        return out;
    }

    private void computeDistances() {
        dist = new int[n];
        Arrays.fill(dist, Integer.MAX_VALUE);
        dist[accept] = 0;
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int q = n - 1; q >= 0; q--) {
                int d = dist[q];
                if (eps1[q] >= 0 && dist[eps1[q]] < d) d = dist[eps1[q]];
                if (eps2[q] >= 0 && dist[eps2[q]] < d) d = dist[eps2[q]];
                if (ranges[q] != null && dist[charTo[q]] != Integer.MAX_VALUE && dist[charTo[q]] + 1 < d) d = dist[charTo[q]] + 1;
                if (d < dist[q]) { dist[q] = d; changed = true; }
            }
        }
    }

    private int newState() {
        if (n == MAX_STATES) throw new IllegalArgumentException("pattern too large (over " + MAX_STATES + " automaton states)");
        if (n == charTo.length) {
            int c = n * 2;
            ranges = Arrays.copyOf(ranges, c);
            charTo = Arrays.copyOf(charTo, c);
            eps1 = Arrays.copyOf(eps1, c);
            eps2 = Arrays.copyOf(eps2, c);
        }
        charTo[n] = -1; eps1[n] = -1; eps2[n] = -1;
        return n++;
    }

    /** Thompson construction: returns {start, end}; end has no outgoing edges. */
    private int[] build(Ast a) {
        switch (a) {
            case Chars c -> {
                int s = newState(), e = newState();
                int[] r = intersect(c.ranges, STRING_CHARS);
                if (r.length > 0) { ranges[s] = r; charTo[s] = e; }
                return new int[] {s, e};
            }
            case Cat c -> {
                if (c.items.isEmpty()) { int s = newState(); return new int[] {s, s}; }
                int[] first = build(c.items.get(0));
                int end = first[1];
                for (int i = 1; i < c.items.size(); i++) {
                    int[] f = build(c.items.get(i));
                    eps1[end] = f[0];
                    end = f[1];
                }
                return new int[] {first[0], end};
            }
            case Alt alt -> {
                int s = newState(), e = newState();
                int cur = s;
                for (int i = 0; i < alt.items.size(); i++) {
                    int[] f = build(alt.items.get(i));
                    eps1[f[1]] = e;
                    if (i == alt.items.size() - 1) { eps1[cur] = f[0]; }
                    else { int next = newState(); eps1[cur] = f[0]; eps2[cur] = next; cur = next; }
                }
                return new int[] {s, e};
            }
            case Rep r -> {
                int s = newState();
                int cur = s;
                for (int i = 0; i < r.min; i++) {
                    int[] f = build(r.body);
                    eps1[cur] = f[0];
                    cur = f[1];
                }
                if (r.max < 0) {
                    int loop = newState(), e = newState();
                    eps1[cur] = loop;
                    int[] f = build(r.body);
                    eps1[loop] = f[0];
                    eps2[loop] = e;
                    eps1[f[1]] = loop;
                    return new int[] {s, e};
                }
                int e = newState();
                for (int i = r.min; i < r.max; i++) {
                    int[] f = build(r.body);
                    eps1[cur] = f[0];
                    eps2[cur] = e;
                    cur = f[1];
                }
                eps1[cur] = e;
                return new int[] {s, e};
            }
        }
    }

    static int[] intersect(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        int m = 0;
        for (int i = 0; i < a.length; i += 2) {
            for (int j = 0; j < b.length; j += 2) {
                int lo = Math.max(a[i], b[j]), hi = Math.min(a[i + 1], b[j + 1]);
                if (lo <= hi) { out[m++] = lo; out[m++] = hi; }
            }
        }
        return normalize(Arrays.copyOf(out, m));
    }

    static int[] normalize(int[] r) {
        int pairs = r.length / 2;
        long[] p = new long[pairs];
        for (int i = 0; i < pairs; i++) p[i] = ((long) r[2 * i] << 32) | (r[2 * i + 1] & 0xFFFFFFFFL);
        Arrays.sort(p);
        int[] out = new int[r.length];
        int m = 0;
        for (long x : p) {
            int lo = (int) (x >>> 32), hi = (int) x;
            if (m > 0 && lo <= out[m - 1] + 1) out[m - 1] = Math.max(out[m - 1], hi);
            else { out[m++] = lo; out[m++] = hi; }
        }
        return Arrays.copyOf(out, m);
    }

    static int[] complement(int[] r) {
        r = normalize(r);
        int[] out = new int[r.length + 2];
        int m = 0, next = 0;
        for (int i = 0; i < r.length; i += 2) {
            if (r[i] > next) { out[m++] = next; out[m++] = r[i] - 1; }
            next = r[i + 1] + 1;
        }
        if (next <= 0x10FFFF) { out[m++] = next; out[m++] = 0x10FFFF; }
        return Arrays.copyOf(out, m);
    }

    // ---- AST and parser ----
    private sealed interface Ast permits Chars, Cat, Alt, Rep {}
    private record Chars(int[] ranges) implements Ast {}
    private record Cat(List<Ast> items) implements Ast {}
    private record Alt(List<Ast> items) implements Ast {}
    private record Rep(Ast body, int min, int max) implements Ast {}

    private static final int[] DIGIT = {'0', '9'};
    private static final int[] WORD = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
    private static final int[] SPACE = {0x09, 0x0D, 0x20, 0x20, 0xA0, 0xA0, 0x1680, 0x1680, 0x2000, 0x200A,
            0x2028, 0x2029, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000, 0xFEFF, 0xFEFF};
    private static final int[] DOT = complement(new int[] {'\n', '\n', '\r', '\r', 0x2028, 0x2029});

    private static final class Parser {
        final String s;
        int pos;
        Parser(String s) { this.s = s; }

        boolean eat(char c) {
            if (pos < s.length() && s.charAt(pos) == c) { pos++; return true; }
            return false;
        }

        Ast alt() {
            List<Ast> items = new ArrayList<>();
            items.add(concat());
            while (eat('|')) items.add(concat());
            return items.size() == 1 ? items.get(0) : new Alt(items);
        }

        Ast concat() {
            List<Ast> items = new ArrayList<>();
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == '|' || c == ')') break;
                if (c == '$' && atBranchEnd(pos + 1)) break;
                items.add(repeat());
            }
            return items.size() == 1 ? items.get(0) : new Cat(items);
        }

        private boolean atBranchEnd(int p) { return p == s.length() || s.charAt(p) == '|'; }

        Ast repeat() {
            Ast a = atom();
            while (pos < s.length()) {
                char c = s.charAt(pos);
                int min, max;
                if (c == '*') { min = 0; max = -1; pos++; }
                else if (c == '+') { min = 1; max = -1; pos++; }
                else if (c == '?') { min = 0; max = 1; pos++; }
                else if (c == '{' && isQuantifier()) {
                    pos++;
                    min = number();
                    max = min;
                    if (eat(',')) max = pos < s.length() && s.charAt(pos) == '}' ? -1 : number();
                    if (!eat('}')) throw new IllegalArgumentException("bad quantifier");
                    if (max >= 0 && max < min) throw new IllegalArgumentException("quantifier {" + min + "," + max + "}");
                    if (min > 1000 || max > 1000) throw new IllegalArgumentException("quantifier bound over 1000");
                } else break;
                eat('?'); // lazy: same language
                if (pos < s.length() && s.charAt(pos) == '+') throw new IllegalArgumentException("possessive quantifier");
                a = new Rep(a, min, max);
            }
            return a;
        }

        private boolean isQuantifier() {
            int p = pos + 1;
            int digits = 0;
            while (p < s.length() && Character.isDigit(s.charAt(p))) { p++; digits++; }
            return digits > 0 && p < s.length() && (s.charAt(p) == '}' || s.charAt(p) == ',');
        }

        private int number() {
            int start = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
            if (start == pos || pos - start > 6) throw new IllegalArgumentException("bad quantifier");
            return Integer.parseInt(s.substring(start, pos));
        }

        Ast atom() {
            int cp = s.codePointAt(pos);
            switch (cp) {
                case '(' -> {
                    pos++;
                    if (eat('?')) {
                        if (eat(':')) { /* non-capturing */ }
                        else if (pos < s.length() && s.charAt(pos) == '<' && pos + 1 < s.length()
                                && s.charAt(pos + 1) != '=' && s.charAt(pos + 1) != '!') {
                            int close = s.indexOf('>', pos);
                            if (close < 0) throw new IllegalArgumentException("bad group name");
                            pos = close + 1;
                        } else throw new IllegalArgumentException("lookaround or group flags");
                    }
                    Ast a = alt();
                    if (!eat(')')) throw new IllegalArgumentException("unbalanced parenthesis");
                    return a;
                }
                case '[' -> { pos++; return new Chars(classBody()); }
                case '.' -> { pos++; return new Chars(DOT); }
                case '^', '$' -> throw new IllegalArgumentException("anchor inside the pattern");
                case '\\' -> { pos++; return new Chars(escape(false)); }
                case '*', '+', '?', ')' -> throw new IllegalArgumentException("nothing to repeat at " + pos);
                default -> { pos += Character.charCount(cp); return new Chars(new int[] {cp, cp}); }
            }
        }

        int[] classBody() {
            boolean negate = eat('^');
            List<Integer> r = new ArrayList<>();
            boolean first = true;
            while (true) {
                if (pos >= s.length()) throw new IllegalArgumentException("unterminated class");
                int cp = s.codePointAt(pos);
                if (cp == ']' && !first) { pos++; break; }
                first = false;
                int[] lo;
                if (cp == '\\') { pos++; lo = escape(true); }
                else if (cp == '[' && pos + 1 < s.length() && s.charAt(pos + 1) == ':') throw new IllegalArgumentException("POSIX class");
                else { pos += Character.charCount(cp); lo = new int[] {cp, cp}; }
                if (lo.length == 2 && lo[0] == lo[1] && pos + 1 < s.length() && s.charAt(pos) == '-' && s.charAt(pos + 1) != ']') {
                    pos++;
                    int[] hi;
                    int c2 = s.codePointAt(pos);
                    if (c2 == '\\') { pos++; hi = escape(true); }
                    else { pos += Character.charCount(c2); hi = new int[] {c2, c2}; }
                    if (hi.length != 2 || hi[0] != hi[1] || hi[0] < lo[0]) throw new IllegalArgumentException("bad class range");
                    r.add(lo[0]); r.add(hi[0]);
                } else {
                    for (int v : lo) r.add(v);
                }
            }
            int[] out = normalize(r.stream().mapToInt(Integer::intValue).toArray());
            return negate ? complement(out) : out;
        }

        int[] escape(boolean inClass) {
            if (pos >= s.length()) throw new IllegalArgumentException("trailing backslash");
            char c = s.charAt(pos++);
            return switch (c) {
                case 'd' -> DIGIT;
                case 'D' -> complement(DIGIT);
                case 'w' -> WORD;
                case 'W' -> complement(WORD);
                case 's' -> SPACE;
                case 'S' -> complement(SPACE);
                case 't' -> single('\t');
                case 'n' -> single('\n');
                case 'r' -> single('\r');
                case 'f' -> single('\f');
                case 'v' -> single(0x0B);
                case '0' -> single(0);
                case 'b' -> { if (inClass) yield single(8); throw new IllegalArgumentException("word boundary \\b"); }
                case 'x' -> single(hex(2));
                case 'u' -> {
                    if (eat('{')) {
                        int close = s.indexOf('}', pos);
                        if (close < 0) throw new IllegalArgumentException("bad \\u{}");
                        int v = Integer.parseInt(s.substring(pos, close), 16);
                        pos = close + 1;
                        yield single(v);
                    }
                    yield single(hex(4));
                }
                default -> {
                    if (Character.isLetterOrDigit(c)) throw new IllegalArgumentException("escape \\" + c);
                    yield single(c);
                }
            };
        }

        private int hex(int digits) {
            if (pos + digits > s.length()) throw new IllegalArgumentException("bad hex escape");
            int v = Integer.parseInt(s.substring(pos, pos + digits), 16);
            pos += digits;
            return v;
        }

        private static int[] single(int c) { return new int[] {c, c}; }
    }
}
