package io.basalt.server.openai;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Map;

/**
 * Python's {@code json.dumps(value, ensure_ascii=False, indent=indent)}, which Hugging Face's {@code tojson} filter
 * calls: {@code ", "} and {@code ": "} between items without indent, {@code ","} and newlines with it; non-ASCII text
 * as is. Chat templates print tool schemas with it, and models were trained on exactly that spacing.
 */
final class PyJson {
    private PyJson() {}

    /** @param indent spaces per level, or null for one line */
    static String dumps(Object value, Integer indent) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, Integer indent, int level) {
        switch (v) {
            case null -> sb.append("null");
            case CharSequence s -> string(sb, s.toString());
            case Boolean b -> sb.append(b ? "true" : "false");
            case Double d -> sb.append(floatRepr(d));
            case Float f -> sb.append(floatRepr(f.doubleValue()));
            case BigDecimal d -> sb.append(floatRepr(d.doubleValue()));
            case Number n -> sb.append(n);
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    sb.append("{}");
                    return;
                }
                sb.append('{');
                Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
                while (it.hasNext()) {
                    Map.Entry<?, ?> e = it.next();
                    newline(sb, indent, level + 1);
                    string(sb, String.valueOf(e.getKey()));
                    sb.append(": ");
                    write(sb, e.getValue(), indent, level + 1);
                    if (it.hasNext()) sb.append(indent == null ? ", " : ",");
                }
                newline(sb, indent, level);
                sb.append('}');
            }
            case Iterable<?> l -> {
                Iterator<?> it = l.iterator();
                if (!it.hasNext()) {
                    sb.append("[]");
                    return;
                }
                sb.append('[');
                while (it.hasNext()) {
                    newline(sb, indent, level + 1);
                    write(sb, it.next(), indent, level + 1);
                    if (it.hasNext()) sb.append(indent == null ? ", " : ",");
                }
                newline(sb, indent, level);
                sb.append(']');
            }
            default -> {
                if (v.getClass().isArray()) {
                    java.util.List<Object> list = new java.util.ArrayList<>();
                    for (int i = 0; i < Array.getLength(v); i++) list.add(Array.get(v, i));
                    write(sb, list, indent, level);
                } else {
                    string(sb, v.toString());
                }
            }
        }
    }

    private static void newline(StringBuilder sb, Integer indent, int level) {
        if (indent == null) return;
        sb.append('\n').append(" ".repeat(indent * level));
    }

    private static void string(StringBuilder sb, String s) { io.basalt.frontend.JsonStrings.quote(sb, s); }

    /** Python's float repr: "1.0", "0.0001", "1e-05", "1e+16", "NaN", "Infinity". */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        double a = Math.abs(d);
        if (a == 0 || (a >= 1e-4 && a < 1e16)) {
            String plain = new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String s = Double.toString(d);                     // e.g. 1.0E-5, 1.5E16
        int e = s.indexOf('E');
        String mantissa = s.substring(0, e);
        if (mantissa.endsWith(".0")) mantissa = mantissa.substring(0, mantissa.length() - 2);
        int exp = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }
}
