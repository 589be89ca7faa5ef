package io.basalt.frontend.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON Schemas that make the grammar engine write tool calls directly (vLLM's {@code get_json_schema_from_tools}):
 * a named {@code tool_choice} constrains the output to that function's arguments; {@code required} to a JSON array of
 * {@code {"name": NAME, "parameters": ARGS}} objects, one alternative per declared function. Pure functions.
 */
public final class ToolCallSchemas {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** The parameters of a function that declares none: an empty object, as OpenAI treats an omitted schema. */
    static final String NO_PARAMETERS = "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}";
    /** Where {@link #required} keeps tool {@code i}'s parameters schema: {@code #/$defs/basalt_tool_i}. */
    static final String DEF_PREFIX = "basalt_tool_";
    /** Keywords whose values are data, not subschemas: a "$ref" string inside them is not a reference. */
    private static final Set<String> DATA_KEYWORDS = Set.of("enum", "const", "default", "examples");
    /** Keywords whose values map names (not keywords) to subschemas. */
    private static final Set<String> NAME_MAPS = Set.of("properties", "$defs", "definitions", "patternProperties",
            "dependentSchemas");

    private ToolCallSchemas() {}

    /** The schema of a named tool_choice: the function's parameters (the whole output is the arguments). */
    public static String named(Tool tool) {
        return tool.parametersJson() == null ? NO_PARAMETERS : tool.parametersJson();
    }

    /**
     * The schema of tool_choice required: {@code {"type":"array","minItems":1,["maxItems":1,]"items":{"anyOf":[…]}}}
     * with an alternative {@code {"name":{"const":NAME},"parameters":{"$ref":"#/$defs/basalt_tool_i"}}} per tool. Each
     * tool's schema moves whole under {@code $defs}, its local {@code $ref}s rewritten to the new prefix, so its own
     * {@code $defs}, {@code definitions} and recursive {@code #} references keep resolving and two tools' definitions of
     * the same name never collide.
     *
     * @param parallel OpenAI's parallel_tool_calls; false allows exactly one call
     * @throws IllegalArgumentException when {@code tools} is empty or a parameters schema is not JSON
     */
    public static String required(List<Tool> tools, boolean parallel) {
        if (tools.isEmpty()) throw new IllegalArgumentException("tool_choice required needs at least one tool");
        ObjectNode root = MAPPER.createObjectNode();
        root.put("type", "array");
        root.put("minItems", 1);
        if (!parallel) root.put("maxItems", 1);
        ArrayNode alternatives = root.putObject("items").putArray("anyOf");
        ObjectNode defs = MAPPER.createObjectNode();
        for (int i = 0; i < tools.size(); i++) {
            Tool t = tools.get(i);
            String key = DEF_PREFIX + i;
            defs.set(key, rebase(read(named(t), t.name()), "#/$defs/" + key));
            ObjectNode alt = alternatives.addObject();
            alt.put("type", "object");
            ObjectNode props = alt.putObject("properties");
            props.putObject("name").put("const", t.name());
            props.putObject("parameters").put("$ref", "#/$defs/" + key);
            alt.putArray("required").add("name").add("parameters");
            alt.put("additionalProperties", false);
        }
        root.set("$defs", defs);
        return root.toString();
    }

    private static JsonNode read(String json, String name) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the parameters of tool '" + name + "' are not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A copy of {@code schema} with every local {@code $ref} ("#…") moved under {@code prefix}. */
    static JsonNode rebase(JsonNode schema, String prefix) {
        if (schema.isArray()) {
            ArrayNode out = MAPPER.createArrayNode();
            for (JsonNode e : schema) out.add(rebase(e, prefix));
            return out;
        }
        if (!schema.isObject()) return schema;
        ObjectNode out = MAPPER.createObjectNode();
        for (Map.Entry<String, JsonNode> e : schema.properties()) {
            JsonNode v = e.getValue();
            if (e.getKey().equals("$ref") && v.isTextual() && v.textValue().startsWith("#")) {
                out.set("$ref", TextNode.valueOf(prefix + v.textValue().substring(1)));
            } else if (DATA_KEYWORDS.contains(e.getKey())) {
                out.set(e.getKey(), v);
            } else if (NAME_MAPS.contains(e.getKey()) && v.isObject()) {
                ObjectNode map = out.putObject(e.getKey());
                for (Map.Entry<String, JsonNode> m : v.properties()) map.set(m.getKey(), rebase(m.getValue(), prefix));
            } else {
                out.set(e.getKey(), rebase(v, prefix));
            }
        }
        return out;
    }
}
