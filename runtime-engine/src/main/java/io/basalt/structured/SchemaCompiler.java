package io.basalt.structured;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.basalt.structured.Nodes.Arr;
import io.basalt.structured.Nodes.Lit;
import io.basalt.structured.Nodes.Node;
import io.basalt.structured.Nodes.Num;
import io.basalt.structured.Nodes.Obj;
import io.basalt.structured.Nodes.Ref;
import io.basalt.structured.Nodes.Str;
import io.basalt.structured.Nodes.Union;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON Schema → grammar. Supported keywords: {@link #SUPPORTED_KEYWORDS} (docs/STRUCTURED.md §4, kept
 * equal by a test); any other keyword is a {@link SchemaException} naming its JSON pointer. Choices
 * that restrict (valid outputs only): properties come in {@code properties} order; without
 * {@code additionalProperties} an object that declares properties gets no others; enum/const values
 * are written compactly; numbers have at most 16 integer and 16 fraction digits.
 */
public final class SchemaCompiler {
    private SchemaCompiler() {}

    /** How whitespace between JSON tokens is allowed. */
    public enum Whitespace {
        /** None: tool arguments. */
        COMPACT,
        /** A run of at most 20 whitespace bytes wherever JSON allows whitespace: response_format. */
        FLEXIBLE
    }

    /** Keyword → what the engine does with it; the table of docs/STRUCTURED.md §4. */
    public static final Map<String, String> SUPPORTED_KEYWORDS = table();

    private static Map<String, String> table() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("type", "object, array, string, number, integer, boolean, null, and unions of them");
        m.put("properties", "in declared order; optional ones may be skipped");
        m.put("required", "names not in properties are added with the additionalProperties schema (or any value)");
        m.put("additionalProperties", "false / true / schema; absent = none when properties are declared, else any");
        m.put("items", "schema; an array of schemas (draft 4 tuples) = prefixItems");
        m.put("prefixItems", "tuple items");
        m.put("additionalItems", "with tuple items: the schema of the rest (false = none)");
        m.put("minItems", "enforced");
        m.put("maxItems", "enforced");
        m.put("enum", "values written compactly; at most Limits.maxEnumSize");
        m.put("const", "written compactly");
        m.put("anyOf", "alternatives, decided byte by byte");
        m.put("oneOf", "as anyOf, when each branch provably excludes the others (else refused)");
        m.put("allOf", "merged when the parts do not conflict (properties, required, bounds, type); else refused");
        m.put("$ref", "local JSON pointers (#, #/$defs/…, #/definitions/…); recursion bounded by Limits.maxValueDepth");
        m.put("$defs", "targets of $ref");
        m.put("definitions", "targets of $ref");
        m.put("minLength", "code points");
        m.put("maxLength", "code points");
        m.put("pattern", "ECMA-262 subset → byte automaton (no lookaround, backreferences, \\b, flags); else refused");
        m.put("format", "date, time, date-time, uuid, email, ipv4, hostname, uri as built-in patterns; others refused");
        m.put("minimum", "enforced (integers exactly; numbers without exponent)");
        m.put("maximum", "enforced (integers exactly; numbers without exponent)");
        m.put("exclusiveMinimum", "enforced (number, or draft 4 boolean)");
        m.put("exclusiveMaximum", "enforced (number, or draft 4 boolean)");
        for (String a : List.of("title", "description", "default", "examples", "$schema", "$id", "id", "$comment",
                "deprecated", "readOnly", "writeOnly", "contentEncoding", "contentMediaType")) {
            m.put(a, "annotation, ignored");
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * JSON Schema keywords (drafts 4 to 2020-12) that assert something the engine does not enforce: a
     * schema using one is refused. Keywords outside every draft (vendor extensions such as "x-…",
     * "javaType", "_format") assert nothing and are ignored like annotations.
     */
    public static final Set<String> REFUSED_KEYWORDS = Set.of("patternProperties", "propertyNames", "minProperties",
            "maxProperties", "dependencies", "dependentRequired", "dependentSchemas", "unevaluatedProperties",
            "unevaluatedItems", "uniqueItems", "contains", "minContains", "maxContains", "not", "if", "then", "else",
            "multipleOf", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor", "$vocabulary",
            "contentSchema");

    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "id", "$comment", "deprecated", "readOnly", "writeOnly", "contentEncoding", "contentMediaType");

    private static final Map<String, String> FORMATS = Map.of(
            "date", "^(19|20)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])$",
            "time", "^([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-](0\\d|1[0-7]):[0-5]\\d)$",
            "date-time", "^(19|20)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-](0\\d|1[0-7]):[0-5]\\d)$",
            "uuid", "^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
            "email", "^[a-z0-9]{1,20}(\\.[a-z0-9]{1,20}){0,2}@[a-z0-9]{1,20}(\\.[a-z0-9]{1,20}){0,2}\\.[a-z]{2,6}$",
            "ipv4", "^((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)$",
            "hostname", "^[a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,2}(\\.[a-z0-9]{1,20}(-[a-z0-9]{1,20}){0,2}){0,3}$",
            "uri", "^https?://[a-z0-9]{1,20}(\\.[a-z0-9]{1,20}){0,3}(/[a-zA-Z0-9._~-]{1,20}){0,5}$");

    public static CompiledGrammar compile(String schemaJson, TokenVocabulary vocab, Limits limits) {
        return compile(schemaJson, vocab, limits, Whitespace.FLEXIBLE);
    }

    public static CompiledGrammar compile(String schemaJson, TokenVocabulary vocab, Limits limits, Whitespace whitespace) {
        Node root = compileNode(schemaJson, limits);
        return new CompiledGrammar(vocab, new Automaton(root, whitespace == Whitespace.COMPACT, limits.maxValueDepth()), "schema");
    }

    /** response_format json_object: any JSON object. */
    public static CompiledGrammar jsonObject(TokenVocabulary vocab) {
        return jsonObject(vocab, Whitespace.FLEXIBLE);
    }

    public static CompiledGrammar jsonObject(TokenVocabulary vocab, Whitespace whitespace) {
        List<Node> all = new ArrayList<>();
        Node any = anyValue(all);
        Obj obj = new Obj(new String[0], new Node[0], new boolean[0], any);
        all.add(obj);
        Nodes.computeMinDepth(all);
        return new CompiledGrammar(vocab, new Automaton(obj, whitespace == Whitespace.COMPACT, Limits.DEFAULT.maxValueDepth()), "json_object");
    }

    /** Compiles to the node graph only (no vocabulary): the schema checks and limits. */
    static Node compileNode(String schemaJson, Limits limits) {
        int bytes = schemaJson.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.maxSchemaBytes()) {
            throw new SchemaException("", "size", "schema of " + bytes + " bytes exceeds the limit of " + limits.maxSchemaBytes());
        }
        JsonNode doc;
        try {
            ObjectMapper m = new ObjectMapper();
            m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(limits.maxDepth() + 1).build());
            doc = m.readTree(schemaJson);
        } catch (JsonProcessingException e) {
            if (e.getMessage() != null && e.getMessage().contains("nesting depth")) {
                throw new SchemaException("", "depth", "schema too deep (over " + limits.maxDepth() + " levels)");
            }
            throw new SchemaException("", "json", "schema is not JSON: " + e.getOriginalMessage());
        }
        if (doc == null) throw new SchemaException("", "json", "empty schema");
        Compiler c = new Compiler(doc, limits);
        Node root = c.node(doc, "");
        c.finish();
        Nodes.computeMinDepth(c.all);
        if (root.deref().minDepth > 2 * limits.maxValueDepth() + 1 || root.deref().minDepth >= Nodes.INF) {
            throw new SchemaException("", "unsatisfiable", "the schema admits no value (within the nesting limit of " + limits.maxValueDepth() + ")");
        }
        return root;
    }

    /** Any JSON value (bounded only by the depth limit). */
    static Node anyValue(List<Node> all) {
        Union any = new Union(null);
        Obj obj = new Obj(new String[0], new Node[0], new boolean[0], any);
        Arr arr = new Arr(new Node[0], any, 0, Integer.MAX_VALUE);
        Str str = new Str(0, Integer.MAX_VALUE, null, false);
        Num num = new Num(false, false, 0, 0, 0, 0);
        Lit lit = new Lit(List.of("true".getBytes(StandardCharsets.UTF_8), "false".getBytes(StandardCharsets.UTF_8),
                "null".getBytes(StandardCharsets.UTF_8)));
        any.alts = new Node[] {obj, arr, str, num, lit};
        all.addAll(List.of(any, obj, arr, str, num, lit));
        return any;
    }

    private static final class Compiler {
        final JsonNode doc;
        final Limits limits;
        final long deadline;
        final List<Node> all = new ArrayList<>();
        final Map<String, Ref> refs = new HashMap<>();
        final List<Ref> pending = new ArrayList<>();
        Node any;

        Compiler(JsonNode doc, Limits limits) {
            this.doc = doc;
            this.limits = limits;
            this.deadline = System.nanoTime() + limits.compileTimeout().toNanos();
        }

        void checkTime(String ptr) {
            if (System.nanoTime() > deadline) {
                throw new SchemaException(ptr, "timeout", "compile exceeded " + limits.compileTimeout().toMillis() + " ms");
            }
        }

        <T extends Node> T add(T n) { all.add(n); return n; }

        Node any() {
            if (any == null) any = anyValue(all);
            return any;
        }

        Node never() { return add(new Union(new Node[0])); }

        void finish() {
            // Resolve $ref targets breadth-first (a target may add more refs).
            for (int i = 0; i < pending.size(); i++) {
                Ref r = pending.get(i);
                checkTime(r.pointer);
                r.target = node(resolve(r.pointer, r.pointer), r.pointer.substring(1));
            }
        }

        /** {@code s} with its $ref followed and allOf merged (as {@link #node} would), for reasoning about it. */
        JsonNode plain(JsonNode s, String ptr) {
            for (int hops = 0; hops < 16 && s.isObject(); hops++) {
                if (s.has("$ref") && onlyAnnotations(s, "$ref")) {
                    s = resolve(s.get("$ref").asText(), ptr);
                } else if (s.has("$ref")) {
                    ObjectNode rest = s.deepCopy();
                    rest.remove("$ref");
                    ObjectNode wrapped = JsonNodeFactory.instance.objectNode();
                    wrapped.set("allOf", JsonNodeFactory.instance.arrayNode()
                            .add(JsonNodeFactory.instance.objectNode().put("$ref", s.get("$ref").asText())).add(rest));
                    s = merge(wrapped, ptr);
                } else if (s.has("allOf")) {
                    s = merge(s, ptr);
                } else {
                    break;
                }
            }
            return s;
        }

        JsonNode resolve(String ref, String ptr) {
            if (!ref.startsWith("#")) throw new SchemaException(ptr, "$ref", "only local $ref (#/...) is supported, got '" + ref + "'");
            String p = URLDecoder.decode(ref.substring(1), StandardCharsets.UTF_8);
            if (!p.isEmpty() && !p.startsWith("/")) throw new SchemaException(ptr, "$ref", "anchor $ref '" + ref + "' is not supported");
            JsonNode t = doc.at(p.isEmpty() ? "" : p);
            if (t == null || t.isMissingNode()) throw new SchemaException(ptr, "$ref", "$ref target '" + ref + "' not found");
            return t;
        }

        Node node(JsonNode s, String ptr) {
            checkTime(ptr);
            if (all.size() > 200_000) throw new SchemaException(ptr, "size", "schema expands to too many nodes");
            if (s.isBoolean()) return s.booleanValue() ? any() : never();
            if (!s.isObject()) throw new SchemaException(ptr, "schema", "a schema must be an object or a boolean at " + (ptr.isEmpty() ? "/" : ptr));
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (REFUSED_KEYWORDS.contains(k)) throw SchemaException.unsupported(ptr, k);
            }
            if (s.has("$ref")) {
                String ref = s.get("$ref").asText();
                if (onlyAnnotations(s, "$ref")) {
                    Ref r = refs.get(ref);
                    if (r == null) {
                        resolve(ref, ptr);
                        r = add(new Ref(ref));
                        refs.put(ref, r);
                        pending.add(r);
                    }
                    return r;
                }
                ObjectNode rest = s.deepCopy();
                rest.remove("$ref");
                ArrayNode parts = JsonNodeFactory.instance.arrayNode();
                parts.add(JsonNodeFactory.instance.objectNode().put("$ref", ref));
                ObjectNode wrapped = JsonNodeFactory.instance.objectNode();
                wrapped.set("allOf", parts);
                parts.add(rest);
                return node(merge(wrapped, ptr), ptr);
            }
            if (s.has("allOf")) return node(merge(s, ptr), ptr);
            JsonNode anyOf = s.has("anyOf") ? s.get("anyOf") : s.get("oneOf");
            if (s.has("anyOf") && s.has("oneOf")) throw new SchemaException(ptr, "oneOf", "anyOf and oneOf together at " + ptr);
            if (anyOf != null) {
                String kw = s.has("anyOf") ? "anyOf" : "oneOf";
                if (!anyOf.isArray() || anyOf.isEmpty()) throw new SchemaException(ptr, kw, kw + " must be a non-empty array");
                ObjectNode rest = s.deepCopy();
                rest.remove(kw);
                boolean siblings = !onlyAnnotations(rest, null);
                List<JsonNode> branches = new ArrayList<>();
                for (int i = 0; i < anyOf.size(); i++) {
                    String p = ptr + "/" + kw + "/" + i;
                    if (siblings) {
                        ObjectNode w = JsonNodeFactory.instance.objectNode();
                        w.set("allOf", JsonNodeFactory.instance.arrayNode().add(rest).add(anyOf.get(i)));
                        branches.add(merge(w, p));
                    } else {
                        branches.add(anyOf.get(i));
                    }
                }
                // oneOf is written as anyOf, which is only right when no branch's output is valid under another.
                if (kw.equals("oneOf") && branches.size() > 1
                        && !new OneOfExclusion(b -> plain(b, ptr), b -> types(b, ptr)).exclusive(branches)) {
                    throw new SchemaException(ptr, "oneOf", "unsupported keyword 'oneOf' at " + (ptr.isEmpty() ? "/" : ptr)
                            + ": its branches may overlap (oneOf is supported when each branch excludes the others: other "
                            + "types, a required key with other const/enum values, or a required key the others cannot have)");
                }
                List<Node> alts = new ArrayList<>();
                for (int i = 0; i < branches.size(); i++) alts.add(node(branches.get(i), ptr + "/" + kw + "/" + i));
                return add(new Union(alts.toArray(Node[]::new)));
            }
            Set<String> types = types(s, ptr);
            if (s.has("const") || s.has("enum")) return literal(s, types, ptr);
            List<Node> alts = new ArrayList<>();
            for (String t : types) {
                switch (t) {
                    case "object" -> alts.add(object(s, ptr));
                    case "array" -> alts.add(array(s, ptr));
                    case "string" -> alts.add(string(s, ptr));
                    case "number" -> alts.add(number(s, ptr, false));
                    case "integer" -> alts.add(number(s, ptr, true));
                    case "boolean" -> alts.add(add(new Lit(List.of(bytes("true"), bytes("false")))));
                    case "null" -> alts.add(add(new Lit(List.of(bytes("null")))));
                    default -> throw new SchemaException(ptr, "type", "unknown type '" + t + "' at " + ptr);
                }
            }
            if (alts.isEmpty()) return any();
            return alts.size() == 1 ? alts.get(0) : add(new Union(alts.toArray(Node[]::new)));
        }

        private static boolean onlyAnnotations(JsonNode s, String except) {
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (k.equals(except) || !SUPPORTED_KEYWORDS.containsKey(k) || ANNOTATIONS.contains(k) || k.equals("$defs") || k.equals("definitions")) continue;
                return false;
            }
            return true;
        }

        /** The types a schema allows: its "type", else those its keywords imply, else empty (= any value). */
        private Set<String> types(JsonNode s, String ptr) {
            Set<String> out = new LinkedHashSet<>();
            JsonNode t = s.get("type");
            if (t != null) {
                if (t.isTextual()) out.add(t.asText());
                else if (t.isArray()) for (JsonNode x : t) out.add(x.asText());
                else throw new SchemaException(ptr, "type", "type must be a string or an array");
                if (out.isEmpty()) throw new SchemaException(ptr, "type", "empty type list");
                if (out.contains("number")) out.remove("integer");
                return out;
            }
            if (s.has("enum") || s.has("const")) return out;
            if (has(s, "properties", "required", "additionalProperties")) out.add("object");
            if (has(s, "items", "prefixItems", "minItems", "maxItems", "additionalItems")) out.add("array");
            if (has(s, "minLength", "maxLength", "pattern", "format")) out.add("string");
            if (has(s, "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")) out.add("number");
            return out;
        }

        private static boolean has(JsonNode s, String... keys) {
            for (String k : keys) if (s.has(k)) return true;
            return false;
        }

        private Node literal(JsonNode s, Set<String> types, String ptr) {
            List<JsonNode> values = new ArrayList<>();
            if (s.has("const")) values.add(s.get("const"));
            if (s.has("enum")) {
                JsonNode e = s.get("enum");
                if (!e.isArray()) throw new SchemaException(ptr, "enum", "enum must be an array");
                if (e.size() > limits.maxEnumSize()) {
                    throw new SchemaException(ptr, "enum", "enum of " + e.size() + " values exceeds the limit of " + limits.maxEnumSize());
                }
                if (s.has("const")) {
                    if (!contains(e, s.get("const"))) values.clear();
                } else {
                    e.forEach(values::add);
                }
            }
            List<byte[]> texts = new ArrayList<>();
            for (JsonNode v : values) {
                checkTime(ptr);
                if (!types.isEmpty() && !typeOf(v, types)) continue;
                texts.add(Json.compact(v));
            }
            return add(new Lit(texts));
        }

        private static boolean contains(JsonNode arr, JsonNode v) {
            for (JsonNode x : arr) if (x.equals(v)) return true;
            return false;
        }

        private static boolean typeOf(JsonNode v, Set<String> types) {
            return switch (v.getNodeType()) {
                case OBJECT -> types.contains("object");
                case ARRAY -> types.contains("array");
                case STRING -> types.contains("string");
                case BOOLEAN -> types.contains("boolean");
                case NULL -> types.contains("null");
                case NUMBER -> types.contains("number") || (types.contains("integer") && (v.isIntegralNumber()
                        || (v.isFloatingPointNumber() && v.doubleValue() == Math.rint(v.doubleValue()))));
                default -> false;
            };
        }

        private Node object(JsonNode s, String ptr) {
            JsonNode props = s.get("properties");
            JsonNode addl = s.get("additionalProperties");
            Set<String> required = new LinkedHashSet<>();
            if (s.has("required")) {
                if (!s.get("required").isArray()) throw new SchemaException(ptr, "required", "required must be an array");
                for (JsonNode r : s.get("required")) required.add(r.asText());
            }
            Node additional;
            if (addl == null) additional = props == null || props.isEmpty() ? any() : null;
            else if (addl.isBoolean()) additional = addl.booleanValue() ? any() : null;
            else additional = node(addl, ptr + "/additionalProperties");
            List<String> names = new ArrayList<>();
            List<Node> values = new ArrayList<>();
            List<Boolean> req = new ArrayList<>();
            if (props != null) {
                if (!props.isObject()) throw new SchemaException(ptr, "properties", "properties must be an object");
                for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    Node v = node(e.getValue(), ptr + "/properties/" + escape(e.getKey()));
                    boolean r = required.contains(e.getKey());
                    if (!r && v instanceof Union u && u.alts.length == 0) continue; // `false`: never present
                    names.add(e.getKey());
                    values.add(v);
                    req.add(r);
                }
            }
            for (String r : required) {
                if (props != null && props.has(r)) continue;
                if (additional == null) {
                    throw new SchemaException(ptr, "required", "required property '" + r + "' is not allowed (additionalProperties false) at " + ptr);
                }
                names.add(r);
                values.add(additional);
                req.add(true);
            }
            boolean[] rq = new boolean[req.size()];
            for (int i = 0; i < rq.length; i++) rq[i] = req.get(i);
            return add(new Obj(names.toArray(String[]::new), values.toArray(Node[]::new), rq, additional));
        }

        private Node array(JsonNode s, String ptr) {
            List<Node> prefix = new ArrayList<>();
            Node items;
            JsonNode it = s.get("items");
            JsonNode pre = s.get("prefixItems");
            if (pre != null) {
                if (!pre.isArray()) throw new SchemaException(ptr, "prefixItems", "prefixItems must be an array");
                for (int i = 0; i < pre.size(); i++) prefix.add(node(pre.get(i), ptr + "/prefixItems/" + i));
            }
            if (it != null && it.isArray()) {
                if (pre != null) throw new SchemaException(ptr, "items", "items as an array together with prefixItems");
                for (int i = 0; i < it.size(); i++) prefix.add(node(it.get(i), ptr + "/items/" + i));
                it = s.get("additionalItems");
            } else if (s.has("additionalItems") && !s.has("items")) {
                it = null; // additionalItems without tuple items has no effect
            }
            int min = s.has("minItems") ? s.get("minItems").asInt() : 0;
            int max = s.has("maxItems") ? s.get("maxItems").asInt() : Integer.MAX_VALUE;
            if (it == null) {
                items = any();
                if (!prefix.isEmpty() && !s.has("maxItems")) max = Math.max(prefix.size(), min);
            } else if (it.isBoolean()) {
                items = it.booleanValue() ? any() : null;
            } else {
                items = node(it, ptr + (s.get("items") != null && s.get("items").isArray() ? "/additionalItems" : "/items"));
            }
            if (items instanceof Union u && u.alts.length == 0) items = null;
            if (min > max) throw new SchemaException(ptr, "minItems", "minItems " + min + " > maxItems " + max + " at " + ptr);
            return add(new Arr(prefix.toArray(Node[]::new), items, min, max));
        }

        private Node string(JsonNode s, String ptr) {
            int min = s.has("minLength") ? s.get("minLength").asInt() : 0;
            int max = s.has("maxLength") ? s.get("maxLength").asInt() : Integer.MAX_VALUE;
            if (min > max) throw new SchemaException(ptr, "minLength", "minLength " + min + " > maxLength " + max + " at " + ptr);
            String pattern = s.has("pattern") ? s.get("pattern").asText() : null;
            String kw = "pattern";
            if (s.has("format")) {
                String f = s.get("format").asText();
                String re = FORMATS.get(f);
                if (re == null) throw new SchemaException(ptr, "format", "unsupported format '" + f + "' at " + (ptr.isEmpty() ? "/" : ptr));
                if (pattern != null) throw new SchemaException(ptr, "format", "format together with pattern at " + ptr);
                pattern = re;
                kw = "format";
            }
            Regex regex = null;
            if (pattern != null) {
                try {
                    regex = Regex.compile(pattern);
                } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                    throw new SchemaException(ptr, kw, "unsupported " + kw + " '" + pattern + "' at " + (ptr.isEmpty() ? "/" : ptr) + ": " + e.getMessage());
                }
                if (max != Integer.MAX_VALUE && regex.minRemaining(regex.startState()) > max) {
                    throw new SchemaException(ptr, kw, "pattern needs more than maxLength " + max + " characters at " + ptr);
                }
            }
            return add(new Str(min, max, regex, false));
        }

        private Node number(JsonNode s, String ptr, boolean integer) {
            double lo = Double.NEGATIVE_INFINITY, hi = Double.POSITIVE_INFINITY;
            boolean loEx = false, hiEx = false;
            if (s.has("minimum")) lo = num(s, "minimum", ptr);
            if (s.has("maximum")) hi = num(s, "maximum", ptr);
            JsonNode exMin = s.get("exclusiveMinimum"), exMax = s.get("exclusiveMaximum");
            if (exMin != null) {
                if (exMin.isBoolean()) loEx = exMin.booleanValue();
                else { double v = num(s, "exclusiveMinimum", ptr); if (v >= lo) { lo = v; loEx = true; } }
            }
            if (exMax != null) {
                if (exMax.isBoolean()) hiEx = exMax.booleanValue();
                else { double v = num(s, "exclusiveMaximum", ptr); if (v <= hi) { hi = v; hiEx = true; } }
            }
            boolean bounded = lo != Double.NEGATIVE_INFINITY || hi != Double.POSITIVE_INFINITY;
            if (!bounded) return add(new Num(integer, false, 0, 0, 0, 0));
            double cap = Num.MAX_MAG;
            long ilo = (long) Math.max(-cap, Math.ceil(lo)), ihi = (long) Math.min(cap, Math.floor(hi));
            if (loEx && lo == Math.ceil(lo) && ilo == (long) lo) ilo++;
            if (hiEx && hi == Math.floor(hi) && ihi == (long) hi) ihi--;
            double dlo = lo, dhi = hi;
            if (loEx) dlo = Math.nextUp(lo);
            if (hiEx) dhi = Math.nextDown(hi);
            dlo = Math.max(dlo, -cap);
            dhi = Math.min(dhi, cap);
            if (integer ? ilo > ihi : dlo > dhi) {
                throw new SchemaException(ptr, "minimum", "no " + (integer ? "integer" : "number") + " in the range at " + ptr);
            }
            return add(new Num(integer, true, ilo, ihi, dlo, dhi));
        }

        private static double num(JsonNode s, String k, String ptr) {
            JsonNode v = s.get(k);
            if (!v.isNumber()) throw new SchemaException(ptr, k, k + " must be a number at " + ptr);
            return v.doubleValue();
        }

        // ---- allOf
        /** Merges allOf parts (and $ref targets) into one schema; conflicts are refused. */
        JsonNode merge(JsonNode s, String ptr) {
            ObjectNode out = s.deepCopy();
            out.remove("allOf");
            JsonNode parts = s.get("allOf");
            if (!parts.isArray() || parts.isEmpty()) throw new SchemaException(ptr, "allOf", "allOf must be a non-empty array");
            ObjectNode acc = JsonNodeFactory.instance.objectNode();
            mergeInto(acc, out, ptr, 0);
            for (int i = 0; i < parts.size(); i++) mergeInto(acc, flatten(parts.get(i), ptr + "/allOf/" + i, 0), ptr + "/allOf/" + i, 0);
            return acc;
        }

        private JsonNode flatten(JsonNode part, String ptr, int hops) {
            checkTime(ptr);
            if (hops > 32) throw new SchemaException(ptr, "allOf", "allOf/$ref nesting too deep at " + ptr);
            if (part.isBoolean()) {
                if (part.booleanValue()) return JsonNodeFactory.instance.objectNode();
                throw new SchemaException(ptr, "allOf", "allOf with false is unsatisfiable at " + ptr);
            }
            if (!part.isObject()) throw new SchemaException(ptr, "allOf", "allOf part is not a schema at " + ptr);
            ObjectNode p = part.deepCopy();
            JsonNode ref = p.remove("$ref");
            JsonNode all = p.remove("allOf");
            ObjectNode acc = JsonNodeFactory.instance.objectNode();
            if (ref != null) mergeInto(acc, flatten(resolve(ref.asText(), ptr), ref.asText().substring(1), hops + 1), ptr, hops);
            if (all != null) {
                for (int i = 0; i < all.size(); i++) mergeInto(acc, flatten(all.get(i), ptr + "/allOf/" + i, hops + 1), ptr, hops);
            }
            mergeInto(acc, p, ptr, hops);
            return acc;
        }

        private void mergeInto(ObjectNode acc, JsonNode part, String ptr, int hops) {
            for (Iterator<Map.Entry<String, JsonNode>> it = part.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String k = e.getKey();
                JsonNode v = e.getValue();
                if (REFUSED_KEYWORDS.contains(k)) throw SchemaException.unsupported(ptr, k);
                if (!SUPPORTED_KEYWORDS.containsKey(k) || ANNOTATIONS.contains(k) || k.equals("$defs") || k.equals("definitions")) continue;
                JsonNode old = acc.get(k);
                if (old == null) { acc.set(k, v); continue; }
                if (old.equals(v)) continue;
                switch (k) {
                    case "properties" -> {
                        ObjectNode merged = ((ObjectNode) old).deepCopy();
                        for (Iterator<Map.Entry<String, JsonNode>> pi = v.fields(); pi.hasNext(); ) {
                            Map.Entry<String, JsonNode> pe = pi.next();
                            JsonNode prev = merged.get(pe.getKey());
                            if (prev == null || prev.equals(pe.getValue())) merged.set(pe.getKey(), pe.getValue());
                            else merged.set(pe.getKey(), JsonNodeFactory.instance.objectNode()
                                    .set("allOf", JsonNodeFactory.instance.arrayNode().add(prev).add(pe.getValue())));
                        }
                        acc.set(k, merged);
                    }
                    case "required" -> {
                        ArrayNode r = ((ArrayNode) old).deepCopy();
                        for (JsonNode x : v) if (!contains(r, x)) r.add(x);
                        acc.set(k, r);
                    }
                    case "type" -> {
                        Set<String> a = typeSet(old), b = typeSet(v), both = new LinkedHashSet<>();
                        for (String t : a) {
                            if (b.contains(t)) both.add(t);
                            else if (t.equals("integer") && b.contains("number")) both.add("integer");
                            else if (t.equals("number") && b.contains("integer")) both.add("integer");
                        }
                        if (both.isEmpty()) throw new SchemaException(ptr, "allOf", "allOf types " + old + " and " + v + " do not intersect at " + ptr);
                        ArrayNode t = JsonNodeFactory.instance.arrayNode();
                        both.forEach(t::add);
                        acc.set(k, t);
                    }
                    case "minimum", "minLength", "minItems" -> acc.set(k, old.asDouble() >= v.asDouble() ? old : v);
                    case "maximum", "maxLength", "maxItems" -> acc.set(k, old.asDouble() <= v.asDouble() ? old : v);
                    default -> throw new SchemaException(ptr, "allOf", "allOf parts conflict on '" + k + "' at " + (ptr.isEmpty() ? "/" : ptr));
                }
            }
        }

        private static Set<String> typeSet(JsonNode t) {
            Set<String> s = new LinkedHashSet<>();
            if (t.isArray()) t.forEach(x -> s.add(x.asText())); else s.add(t.asText());
            return s;
        }

        private static String escape(String key) { return key.replace("~", "~0").replace("/", "~1"); }

        private static byte[] bytes(String s) { return s.getBytes(StandardCharsets.UTF_8); }
    }
}
