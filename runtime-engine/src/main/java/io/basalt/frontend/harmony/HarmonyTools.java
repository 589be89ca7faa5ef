package io.basalt.frontend.harmony;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.frontend.tools.Tool;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code # Tools} section of harmony's system and developer messages, with each function's JSON
 * Schema parameters written as a TypeScript type the way openai/harmony's {@code json_schema_to_typescript}
 * writes them (checked byte for byte against its golden renderings). That renderer's rules, including its
 * quirks, are kept on purpose because gpt-oss was trained on its output: property order is the schema's,
 * descriptions become {@code // } comments, a {@code default} is a trailing {@code // default: …} comment
 * (quoted only for a string of a non-enum schema), {@code nullable} adds {@code | null}, string enums become
 * unions of quoted strings, {@code oneOf} a multi-line union, and whatever it does not know ({@code anyOf},
 * {@code allOf}, {@code $ref}, {@code const}, untyped {@code enum}, {@code type: "null"}) is {@code any};
 * constraints ({@code minimum}, {@code pattern}…) are not shown.
 */
public final class HarmonyTools {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HarmonyTools() {}

    /** {@code # Tools} followed by each namespace in name order (harmony keeps them in a BTreeMap). */
    public static String section(List<HarmonyToolNamespace> namespaces) {
        List<HarmonyToolNamespace> sorted = new ArrayList<>(namespaces);
        sorted.sort(Comparator.comparing(HarmonyToolNamespace::name));
        List<String> sections = new ArrayList<>();
        sections.add("# Tools");
        for (HarmonyToolNamespace ns : sorted) sections.add(namespace(ns));
        return String.join("\n\n", sections);
    }

    private static String namespace(HarmonyToolNamespace ns) {
        boolean hasTools = !ns.tools().isEmpty();
        List<String> lines = new ArrayList<>();
        lines.add("## " + ns.name() + "\n");
        if (ns.description() != null) {
            ns.description().lines().forEach(line -> lines.add(hasTools ? "// " + line : line));
        }
        if (hasTools) {
            lines.add("namespace " + ns.name() + " {\n");
            for (Tool tool : ns.tools()) {
                if (tool.description() != null) tool.description().lines().forEach(line -> lines.add("// " + line));
                if (tool.parametersJson() != null) {
                    lines.add("type " + tool.name() + " = (_: " + typeScript(parse(tool), "") + ") => any;\n");
                } else {
                    lines.add("type " + tool.name() + " = () => any;\n");
                }
            }
            lines.add("} // namespace " + ns.name());
        }
        return String.join("\n", lines);
    }

    private static JsonNode parse(Tool tool) {
        try {
            return JSON.readTree(tool.parametersJson());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("tool " + tool.name() + ": parameters are not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A JSON Schema as TypeScript; {@code indent} prefixes the lines of nested objects. */
    public static String typeScript(JsonNode schema, String indent) {
        JsonNode oneOf = schema.get("oneOf");
        if (oneOf != null && oneOf.isArray()) {
            StringBuilder out = new StringBuilder();
            for (JsonNode variant : oneOf) {
                out.append('\n').append(indent).append(" | ").append(nullable(variant, typeScript(variant, indent + "   ")));
                List<String> comments = new ArrayList<>();
                if (variant.path("description").isTextual()) comments.add(variant.get("description").asText());
                JsonNode dflt = variant.get("default");
                if (dflt != null) {
                    // Here an enum's string default is written as JSON (quoted and escaped), unlike in properties.
                    comments.add(dflt.isTextual() && !isEnum(variant) ? "default: \"" + dflt.asText() + "\"" : "default: " + json(dflt));
                }
                if (!comments.isEmpty()) out.append(" // ").append(String.join(" ", comments));
            }
            return out.toString();
        }
        JsonNode type = schema.get("type");
        if (type != null && type.isArray()) {
            List<String> types = new ArrayList<>();
            for (JsonNode t : type) if (t.isTextual()) types.add(t.asText().equals("integer") ? "number" : t.asText());
            if (!types.isEmpty()) return String.join(" | ", types);
        }
        if (type == null || !type.isTextual()) return "any";
        return switch (type.asText()) {
            case "object" -> object(schema, indent);
            case "string" -> {
                JsonNode values = schema.get("enum");
                if (values != null && values.isArray()) {
                    List<String> quoted = new ArrayList<>();
                    for (JsonNode v : values) if (v.isTextual()) quoted.add("\"" + v.asText() + "\"");
                    if (!quoted.isEmpty()) yield String.join(" | ", quoted);
                }
                yield "string";
            }
            case "number", "integer" -> "number";
            case "boolean" -> "boolean";
            case "array" -> schema.has("items") ? typeScript(schema.get("items"), indent) + "[]" : "Array<any>";
            default -> "any";
        };
    }

    private static String object(JsonNode schema, String indent) {
        StringBuilder out = new StringBuilder();
        if (schema.path("description").isTextual()) out.append(indent).append("// ").append(schema.get("description").asText()).append('\n');
        out.append("{\n");
        JsonNode props = schema.get("properties");
        if (props != null && props.isObject()) {
            Set<String> required = new HashSet<>();
            JsonNode req = schema.get("required");
            if (req != null && req.isArray()) for (JsonNode r : req) if (r.isTextual()) required.add(r.asText());
            for (Map.Entry<String, JsonNode> e : props.properties()) {
                String key = e.getKey();
                JsonNode val = e.getValue();
                String optional = required.contains(key) ? "" : "?";
                if (val.path("title").isTextual()) out.append(indent).append("// ").append(val.get("title").asText()).append('\n').append(indent).append("//\n");
                JsonNode oneOf = val.get("oneOf");
                if (oneOf == null && val.path("description").isTextual()) {
                    out.append(indent).append("// ").append(val.get("description").asText()).append('\n');
                }
                JsonNode examples = val.get("examples");
                if (examples != null && examples.isArray() && !examples.isEmpty()) {
                    out.append(indent).append("// Examples:\n");
                    for (JsonNode ex : examples) if (ex.isTextual()) out.append(indent).append("// - \"").append(ex.asText()).append("\"\n");
                }
                if (oneOf != null && oneOf.isArray()) {
                    propertyOneOf(out, indent, key + optional, val, oneOf);
                    continue;
                }
                out.append(indent).append(key).append(optional).append(": ");
                out.append(nullable(val, typeScript(val, indent + "    "))).append(',');
                JsonNode dflt = val.get("default");
                if (oneOf == null && dflt != null) out.append(" // default: ").append(defaultText(val, dflt));
                out.append('\n');
            }
        }
        return out.append(indent).append('}').toString();
    }

    /** A property whose schema is a {@code oneOf}: the name on its own line, then one {@code  | variant} line each. */
    private static void propertyOneOf(StringBuilder out, String indent, String keyAndMarker, JsonNode val, JsonNode oneOf) {
        String propertyDesc = val.path("description").isTextual() ? val.get("description").asText() : null;
        JsonNode first = oneOf.isEmpty() ? null : oneOf.get(0);
        boolean skipDesc = propertyDesc != null && first != null && first.path("description").isTextual()
                && propertyDesc.equals(first.get("description").asText());
        boolean descAbove = false;
        if (!skipDesc && propertyDesc != null) {
            out.append(indent).append("// ").append(propertyDesc).append('\n');
            descAbove = true;
        }
        JsonNode dflt = val.get("default");
        if (dflt != null) out.append(indent).append("// default: ").append(defaultText(val, dflt)).append('\n');
        out.append(indent).append(keyAndMarker).append(":\n");
        for (int i = 0; i < oneOf.size(); i++) {
            JsonNode variant = oneOf.get(i);
            out.append(indent).append(" | ").append(nullable(variant, typeScript(variant, indent + "   ")));
            List<String> comments = new ArrayList<>();
            if (!(i == 0 && descAbove) && variant.path("description").isTextual()) {
                String d = variant.get("description").asText();
                if (!d.equals(propertyDesc)) comments.add(d);
            }
            JsonNode vd = variant.get("default");
            if (vd != null) comments.add("default: " + defaultText(variant, vd));
            if (!comments.isEmpty()) out.append(" // ").append(String.join(" ", comments));
            out.append('\n');
        }
        out.append(indent).append(",\n");
    }

    /** A default as harmony writes it in a property: a string quoted unless its schema is an enum, other values as JSON. */
    private static String defaultText(JsonNode schema, JsonNode dflt) {
        if (!dflt.isTextual()) return json(dflt);
        return isEnum(schema) ? dflt.asText() : "\"" + dflt.asText() + "\"";
    }

    private static String nullable(JsonNode schema, String type) {
        return schema.path("nullable").asBoolean(false) && schema.path("nullable").isBoolean() && !type.contains("null")
                ? type + " | null" : type;
    }

    private static boolean isEnum(JsonNode schema) {
        JsonNode e = schema.get("enum");
        return e != null && e.isArray() && !e.isEmpty();
    }

    /** Compact JSON as serde_json's Display writes it (shortest round-trip floats, e.g. 1e20, 0.5, 1.0). */
    static String json(JsonNode node) {
        StringBuilder sb = new StringBuilder();
        writeJson(node, sb);
        return sb.toString();
    }

    private static void writeJson(JsonNode node, StringBuilder sb) {
        if (node.isObject()) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (!first) sb.append(',');
                first = false;
                writeString(e.getKey(), sb);
                sb.append(':');
                writeJson(e.getValue(), sb);
            }
            sb.append('}');
        } else if (node.isArray()) {
            sb.append('[');
            for (int i = 0; i < node.size(); i++) {
                if (i > 0) sb.append(',');
                writeJson(node.get(i), sb);
            }
            sb.append(']');
        } else if (node.isTextual()) {
            writeString(node.asText(), sb);
        } else if (node.isIntegralNumber() && node.canConvertToLong()) {
            sb.append(node.asLong());
        } else if (node.isNumber()) {
            sb.append(ryu(node.asDouble()));
        } else {
            sb.append(node.toString()); // true, false, null
        }
    }

    private static void writeString(String s, StringBuilder sb) { io.basalt.frontend.JsonStrings.quote(sb, s); }

    /** A finite double as the ryu crate formats it: digits of the shortest round trip, plain for exponents -5..15. */
    static String ryu(double d) {
        if (!Double.isFinite(d)) return "null";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        java.math.BigDecimal bd = new java.math.BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int exp = digits.length() - 1 - bd.scale();        // d = digits[0].digits[1..] × 10^exp
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        if (exp >= 0 && exp <= 15) {
            if (digits.length() <= exp + 1) {
                sb.append(digits).append("0".repeat(exp + 1 - digits.length())).append(".0");
            } else {
                sb.append(digits, 0, exp + 1).append('.').append(digits, exp + 1, digits.length());
            }
        } else if (exp < 0 && exp > -6) {
            sb.append("0.").append("0".repeat(-exp - 1)).append(digits);
        } else {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
            sb.append('e').append(exp);
        }
        return sb.toString();
    }
}
