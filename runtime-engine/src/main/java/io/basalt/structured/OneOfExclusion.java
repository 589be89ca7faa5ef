package io.basalt.structured;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Whether a {@code oneOf} can be generated as an {@code anyOf}: only when no value the engine writes for one branch is
 * also valid under another, since such a value is invalid under {@code oneOf} ("exactly one"). Proven pairwise from the
 * generating branch's own output (the types and keys the engine writes for it, SchemaCompiler's choices) against the
 * other branch's validation rules, by these sufficient conditions (anything else is "may overlap"):
 * <ul>
 *   <li>the types the engine writes for A are types B's {@code type} does not allow;</li>
 *   <li>A writes only literals ({@code const}/{@code enum}) and B allows only other literals;</li>
 *   <li>A writes only objects, and B requires a key A never writes, or A always writes a key whose value B's schema for
 *       it always rejects (recursively: the discriminator case), or that B's {@code additionalProperties: false} forbids.</li>
 * </ul>
 */
final class OneOfExclusion {
    private static final int MAX_DEPTH = 8;
    private static final List<String> ALL_TYPES = List.of("object", "array", "string", "number", "integer", "boolean", "null");

    private final UnaryOperator<JsonNode> plain;
    private final java.util.function.Function<JsonNode, Set<String>> written;

    /**
     * @param plain   a schema with its $ref and allOf resolved into one object (or returned as is when it has neither)
     * @param written the types the engine writes for a schema (SchemaCompiler's inference; empty = any value)
     */
    OneOfExclusion(UnaryOperator<JsonNode> plain, java.util.function.Function<JsonNode, Set<String>> written) {
        this.plain = plain;
        this.written = written;
    }

    /** True when every pair of branches provably excludes each other both ways. */
    boolean exclusive(List<JsonNode> branches) {
        List<JsonNode> p = new ArrayList<>(branches.size());
        for (JsonNode b : branches) p.add(plain.apply(b));
        for (int i = 0; i < p.size(); i++) {
            for (int j = 0; j < p.size(); j++) {
                if (i != j && !rejectsAll(p.get(j), p.get(i), 0)) return false;
            }
        }
        return true;
    }

    /** Whether {@code b} rejects every value the engine writes for {@code a}. */
    private boolean rejectsAll(JsonNode b, JsonNode a, int depth) {
        if (depth > MAX_DEPTH || a == null || b == null) return false;
        if (a.isBoolean()) return !a.booleanValue();                  // false writes nothing: vacuously rejected
        if (b.isBoolean()) return !b.booleanValue();
        if (!a.isObject() || !b.isObject()) return false;
        a = plain.apply(a);
        b = plain.apply(b);
        if (a.has("anyOf") || a.has("oneOf")) {
            JsonNode alts = a.has("anyOf") ? a.get("anyOf") : a.get("oneOf");
            if (a.size() != 1 || !alts.isArray()) return false;       // siblings beside the alternatives: not analysed
            for (JsonNode alt : alts) if (!rejectsAll(b, alt, depth + 1)) return false;
            return true;
        }
        if (b.has("anyOf") || b.has("oneOf")) return false;
        List<JsonNode> literals = literals(a);
        if (literals != null) {
            for (JsonNode v : literals) if (!rejectsLiteral(b, v)) return false;
            return true;
        }
        Set<String> aTypes = written.apply(a);
        if (aTypes.isEmpty()) aTypes = Set.copyOf(ALL_TYPES);
        Set<String> bTypes = allowedTypes(b);
        boolean overlap = false;
        for (String t : aTypes) if (bTypes.contains(t) || (t.equals("integer") && bTypes.contains("number"))) overlap = true;
        if (!overlap) return true;
        if (literals(b) != null) return false;                        // a is not literal: assume it can hit b's values
        if (!aTypes.equals(Set.of("object"))) return false;
        return objectRejected(b, a, depth);
    }

    /** a writes only objects; does b reject them all? */
    private boolean objectRejected(JsonNode b, JsonNode a, int depth) {
        Set<String> aRequired = strings(a.get("required"));
        JsonNode aProps = a.get("properties");
        JsonNode aAdditional = a.get("additionalProperties");
        // SchemaCompiler writes only declared (and required) keys when properties are declared and additionalProperties
        // is absent or false; otherwise any key may appear.
        boolean closed = aProps != null && aProps.isObject()
                && (aAdditional == null || (aAdditional.isBoolean() && !aAdditional.booleanValue()));
        Set<String> aKeys = new HashSet<>(aRequired);
        if (aProps != null) aProps.fieldNames().forEachRemaining(aKeys::add);
        for (String k : strings(b.get("required"))) if (closed && !aKeys.contains(k)) return true;
        JsonNode bProps = b.get("properties");
        JsonNode bAdditional = b.get("additionalProperties");
        for (String k : aRequired) {
            JsonNode bk = bProps != null ? bProps.get(k) : null;
            if (bk == null && bAdditional != null && bAdditional.isBoolean() && !bAdditional.booleanValue()) return true;
            JsonNode ak = aProps != null ? aProps.get(k) : null;
            if (bk != null && ak != null && rejectsAll(bk, ak, depth + 1)) return true;
        }
        return false;
    }

    private boolean rejectsLiteral(JsonNode b, JsonNode v) {
        List<JsonNode> bLiterals = literals(b);
        if (bLiterals != null) {
            for (JsonNode w : bLiterals) if (w.equals(v)) return false;
            return true;
        }
        Set<String> bTypes = allowedTypes(b);
        String t = typeOf(v);
        return !(bTypes.contains(t) || (t.equals("integer") && bTypes.contains("number")));
    }

    /** The values a schema allows when it lists them (const, enum), else null. */
    private static List<JsonNode> literals(JsonNode s) {
        if (s.has("const")) return List.of(s.get("const"));
        JsonNode e = s.get("enum");
        if (e != null && e.isArray()) {
            List<JsonNode> out = new ArrayList<>();
            e.forEach(out::add);
            return out;
        }
        return null;
    }

    /** The types a schema's {@code type} allows when validating (no {@code type}: all). */
    private static Set<String> allowedTypes(JsonNode s) {
        JsonNode t = s.get("type");
        if (t == null) return Set.copyOf(ALL_TYPES);
        Set<String> out = new HashSet<>();
        if (t.isTextual()) out.add(t.asText());
        else if (t.isArray()) for (JsonNode x : t) out.add(x.asText());
        if (out.contains("number")) out.add("integer");
        return out;
    }

    private static String typeOf(JsonNode v) {
        if (v.isObject()) return "object";
        if (v.isArray()) return "array";
        if (v.isTextual()) return "string";
        if (v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) return "integer";
        if (v.isNumber()) return "number";
        if (v.isBoolean()) return "boolean";
        return "null";
    }

    private static Set<String> strings(JsonNode arr) {
        Set<String> out = new HashSet<>();
        if (arr != null && arr.isArray()) for (Iterator<JsonNode> it = arr.elements(); it.hasNext(); ) out.add(it.next().asText());
        return out;
    }
}
