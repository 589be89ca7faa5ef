package io.basalt.frontend.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.basalt.structured.CompiledGrammar;
import io.basalt.structured.Limits;
import io.basalt.structured.Matcher;
import io.basalt.structured.SchemaCompiler;
import io.basalt.structured.TokenVocabulary;
import io.basalt.tokenizer.Tokenizer;
import io.basalt.tokenizer.Tokenizers;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The schemas of tool_choice named/required: their shape, $ref rebasing, and that the engine compiles and enforces them. */
class ToolCallSchemasTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Tokenizer GPT2 = Tokenizers.r50kBase();
    static final TokenVocabulary VOCAB = TokenVocabulary.of(GPT2);

    /** Uses its own $defs and a definitions entry that a sibling tool also names differently. */
    static final Tool WHERE = new Tool("where", null, """
            {"type":"object","properties":{"place":{"$ref":"#/$defs/place"},"unit":{"$ref":"#/definitions/unit"}},
             "required":["place"],"additionalProperties":false,
             "$defs":{"place":{"type":"object","properties":{"city":{"type":"string","maxLength":8}},"required":["city"],
                      "additionalProperties":false}},
             "definitions":{"unit":{"enum":["c","f"]}}}""");
    /** Recursive through "#", and a $defs "place" of another shape than WHERE's. */
    static final Tool TREE = new Tool("tree", null, """
            {"type":"object","properties":{"label":{"type":"string","maxLength":4},"kids":{"type":"array","items":{"$ref":"#"},
             "maxItems":2},"at":{"$ref":"#/$defs/place"}},"required":["label"],"additionalProperties":false,
             "$defs":{"place":{"type":"integer"}}}""");
    static final Tool PING = new Tool("ping", null, null);

    static boolean accepts(CompiledGrammar g, String text) {
        Matcher m = g.newMatcher();
        for (int id : GPT2.encode(text)) if (!m.accept(id)) return false;
        return m.isAccepting();
    }

    static List<?> violations(String schema, String instance) throws Exception {
        var s = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(JSON.readTree(schema));
        return s.validate(JSON.readTree(instance));
    }

    @Test
    void namedIsTheParametersOrAnEmptyObject() {
        assertEquals(WHERE.parametersJson(), ToolCallSchemas.named(WHERE));
        String none = ToolCallSchemas.named(PING);
        CompiledGrammar g = SchemaCompiler.compile(none, VOCAB, Limits.DEFAULT);
        assertTrue(accepts(g, "{}"));
        assertFalse(accepts(g, "{\"a\":1}"));
        CompiledGrammar where = SchemaCompiler.compile(ToolCallSchemas.named(WHERE), VOCAB, Limits.DEFAULT);
        assertTrue(accepts(where, "{\"place\":{\"city\":\"Lyon\"},\"unit\":\"c\"}"));
        assertFalse(accepts(where, "{\"unit\":\"c\"}"));
    }

    @Test
    void requiredIsAnArrayOfNamedCallsWhoseRefsStillResolve() throws Exception {
        String schema = ToolCallSchemas.required(List.of(WHERE, TREE, PING), true);
        JsonNode s = JSON.readTree(schema);
        assertEquals("array", s.get("type").asText());
        assertEquals(1, s.get("minItems").asInt());
        assertFalse(s.has("maxItems"));
        assertEquals(3, s.at("/items/anyOf").size());
        assertEquals("#/$defs/basalt_tool_0/$defs/place", s.at("/$defs/basalt_tool_0/properties/place/$ref").asText());
        assertEquals("#/$defs/basalt_tool_0/definitions/unit", s.at("/$defs/basalt_tool_0/properties/unit/$ref").asText());
        assertEquals("#/$defs/basalt_tool_1", s.at("/$defs/basalt_tool_1/properties/kids/items/$ref").asText());

        CompiledGrammar g = SchemaCompiler.compile(schema, VOCAB, Limits.DEFAULT);
        String good = "[{\"name\":\"where\",\"parameters\":{\"place\":{\"city\":\"Lyon\"},\"unit\":\"f\"}},"
                + "{\"name\":\"tree\",\"parameters\":{\"label\":\"a\",\"kids\":[{\"label\":\"b\",\"kids\":[],\"at\":3}]}},"
                + "{\"name\":\"ping\",\"parameters\":{}}]";
        assertTrue(accepts(g, good), good);
        assertEquals(List.of(), violations(schema, good));
        for (String bad : List.of("[]", "{\"name\":\"ping\",\"parameters\":{}}",
                "[{\"name\":\"nope\",\"parameters\":{}}]",
                "[{\"name\":\"where\",\"parameters\":{\"place\":3}}]",                       // WHERE's place, not TREE's
                "[{\"name\":\"tree\",\"parameters\":{\"label\":\"a\",\"at\":{\"city\":\"x\"}}}]",   // TREE's place, not WHERE's
                "[{\"name\":\"tree\",\"parameters\":{\"label\":\"a\",\"kids\":[{\"kids\":[]}]}}]",  // the recursion keeps "required"
                "[{\"name\":\"ping\"}]")) {
            assertFalse(accepts(g, bad), bad);
            assertFalse(violations(schema, bad).isEmpty(), bad);
        }
    }

    @Test
    void parallelFalseAllowsOneCall() {
        String schema = ToolCallSchemas.required(List.of(PING, TREE), false);
        CompiledGrammar g = SchemaCompiler.compile(schema, VOCAB, Limits.DEFAULT);
        assertTrue(accepts(g, "[{\"name\":\"ping\",\"parameters\":{}}]"));
        assertFalse(accepts(g, "[{\"name\":\"ping\",\"parameters\":{}},{\"name\":\"ping\",\"parameters\":{}}]"));
        assertTrue(accepts(SchemaCompiler.compile(ToolCallSchemas.required(List.of(PING), true), VOCAB, Limits.DEFAULT),
                "[{\"name\":\"ping\",\"parameters\":{}},{\"name\":\"ping\",\"parameters\":{}}]"));
    }

    @Test
    void dataKeywordsAndPropertyNamesAreNotRewritten() throws Exception {
        Tool t = new Tool("t", null, "{\"type\":\"object\",\"properties\":{\"enum\":{\"$ref\":\"#/$defs/x\"},"
                + "\"$ref\":{\"const\":{\"$ref\":\"#/keep\"}}},\"$defs\":{\"x\":{\"type\":\"null\"}}}");
        JsonNode s = JSON.readTree(ToolCallSchemas.required(List.of(t), true));
        assertEquals("#/$defs/basalt_tool_0/$defs/x", s.at("/$defs/basalt_tool_0/properties/enum/$ref").asText());
        assertEquals("#/keep", s.at("/$defs/basalt_tool_0/properties/$ref/const/$ref").asText());
        assertThrows(IllegalArgumentException.class, () -> ToolCallSchemas.required(List.of(), true));
    }
}
