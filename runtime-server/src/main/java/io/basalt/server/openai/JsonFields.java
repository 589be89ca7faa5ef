package io.basalt.server.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Typed, optional fields of a request object. Absent and JSON null both read as "not given" (Java
 * null); a value of the wrong type is a 400 naming the field. Integers accept any JSON number with
 * an exact integral value (2 and 2.0), never strings.
 */
final class JsonFields {
    private JsonFields() {}

    /**
     * OpenAI's answer to a field it does not know, so that a typo ("max_token") is not silently
     * ignored: 400 "Unrecognized request argument supplied: max_token" naming the (first) field.
     */
    static void requireKnown(ObjectNode o, Set<String> known) {
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!known.contains(name)) unknown.add(name);
        }
        if (unknown.isEmpty()) return;
        List<String> shown = unknown.stream().limit(5).map(JsonFields::clip).toList();
        String list = String.join(", ", shown) + (unknown.size() > shown.size() ? ", …" : "");
        throw new OpenAiException(400, "invalid_request_error", (unknown.size() == 1 ? "Unrecognized request argument supplied: "
                : "Unrecognized request arguments supplied: ") + list, shown.getFirst(), "unknown_parameter");
    }

    /** A boolean field that may only be false (or absent): true is a 400 naming it, {@code why} says what is done instead. */
    static void onlyFalse(ObjectNode o, String name, String why) {
        Boolean v = bool(o, name);
        if (v != null && v) throw OpenAiException.unsupported(name, name + "=true is not supported: " + why);
    }

    /** The union of field sets. */
    @SafeVarargs
    static Set<String> fields(Set<String>... sets) {
        Set<String> all = new HashSet<>();
        for (Set<String> s : sets) all.addAll(s);
        return Set.copyOf(all);
    }

    static JsonNode opt(ObjectNode o, String name) {
        JsonNode v = o.get(name);
        return v == null || v.isNull() ? null : v;
    }

    static String string(ObjectNode o, String name) {
        JsonNode v = opt(o, name);
        if (v == null) return null;
        if (!v.isTextual()) throw wrongType(name, "a string", v);
        return v.textValue();
    }

    static Boolean bool(ObjectNode o, String name) {
        JsonNode v = opt(o, name);
        if (v == null) return null;
        if (!v.isBoolean()) throw wrongType(name, "a boolean", v);
        return v.booleanValue();
    }

    static Integer integer(ObjectNode o, String name) {
        JsonNode v = opt(o, name);
        return v == null ? null : toInt(v, name);
    }

    static Long longValue(ObjectNode o, String name) {
        JsonNode v = opt(o, name);
        if (v == null) return null;
        if (!v.isNumber() || !v.canConvertToExactIntegral()) throw wrongType(name, "an integer", v);
        if (!v.canConvertToLong()) throw OpenAiException.invalid(name, "'" + name + "' is out of range: " + clip(v.asText()));
        return v.asLong();
    }

    static Float number(ObjectNode o, String name) {
        JsonNode v = opt(o, name);
        if (v == null) return null;
        return toFloat(v, name);
    }

    /** An int, or a 400 naming {@code name} (also for integers beyond 32 bits). */
    static int toInt(JsonNode v, String name) {
        if (!v.isNumber() || !v.canConvertToExactIntegral()) throw wrongType(name, "an integer", v);
        if (!v.canConvertToInt()) throw OpenAiException.invalid(name, "'" + name + "' is out of range: " + clip(v.asText()));
        return v.asInt();
    }

    /** A float (out-of-range magnitudes become ±Infinity, which the range checks downstream reject). */
    static float toFloat(JsonNode v, String name) {
        if (!v.isNumber()) throw wrongType(name, "a number", v);
        return (float) v.doubleValue();
    }

    static OpenAiException wrongType(String name, String expected, JsonNode got) {
        return OpenAiException.invalid(name, "'" + name + "' must be " + expected + ", got " + describe(got));
    }

    static String describe(JsonNode v) {
        return switch (v.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> v.canConvertToExactIntegral() ? "the integer " + clip(v.asText()) : "the number " + clip(v.asText());
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    static String clip(String s) { return s.length() > 40 ? s.substring(0, 40) + "…" : s; }
}
