package io.basalt.structured;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pathological schemas finish or fail fast, with a SchemaException naming the place. */
class HostileSchemaTest {
    private static SchemaException refused(String schema) {
        return assertTimeoutPreemptively(Duration.ofSeconds(3),
                () -> assertThrows(SchemaException.class, () -> GrammarTesting.gpt2(schema)));
    }

    @Test void depth100() {
        String s = "{\"type\":\"object\",\"properties\":{\"a\":".repeat(100) + "{\"type\":\"string\"}" + "}}".repeat(100);
        assertEquals("depth", refused(s).keyword());
    }

    @Test void enumOf10000() {
        StringBuilder b = new StringBuilder("{\"enum\":[");
        for (int i = 0; i < 10_000; i++) b.append(i == 0 ? "" : ",").append('"').append("v").append(i).append('"');
        SchemaException e = refused(b.append("]}").toString());
        assertEquals("enum", e.keyword());
        assertEquals("", e.path());
    }

    @Test void recursiveRefs() {
        assertEquals("unsatisfiable", refused("{\"$ref\":\"#\"}").keyword());
        assertEquals("unsatisfiable", refused("{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#\"}},\"required\":[\"next\"]}").keyword());
        assertEquals("unsatisfiable", refused("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}").keyword());
    }

    @Test void oneMegabyte() {
        String s = "{\"type\":\"string\",\"description\":\"" + "x".repeat(1 << 20) + "\"}";
        assertEquals("size", refused(s).keyword());
    }

    @Test void unsatisfiable() {
        assertEquals("unsatisfiable", refused("{\"type\":\"string\",\"enum\":[1,2]}").keyword());
        assertEquals("minLength", refused("{\"type\":\"string\",\"minLength\":5,\"maxLength\":2}").keyword());
        assertEquals("minItems", refused("{\"type\":\"array\",\"minItems\":5,\"maxItems\":2}").keyword());
        assertEquals("minimum", refused("{\"type\":\"integer\",\"minimum\":0.2,\"maximum\":0.8}").keyword());
        assertEquals("unsatisfiable", refused("false").keyword());
    }

    @Test void unsupportedKeywordsNamePointerAndKeyword() {
        SchemaException e = refused("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\",\"patternProperties\":{\"x\":{}}}}}");
        assertEquals("patternProperties", e.keyword());
        assertEquals("/properties/a", e.path());
        assertEquals("unsupported keyword 'patternProperties' at /properties/a", e.getMessage());
        assertEquals("not", refused("{\"not\":{\"type\":\"string\"}}").keyword());
        assertEquals("multipleOf", refused("{\"type\":\"integer\",\"multipleOf\":3}").keyword());
        assertEquals("$ref", refused("{\"$ref\":\"http://example.com/s.json\"}").keyword());
    }

    @Test void nestedAnyOfAndEmptySchemaStayBounded() {
        String s = "{\"type\":\"string\"}";
        for (int i = 0; i < 8; i++) s = "{\"anyOf\":[" + s + "," + s + ",{\"type\":\"integer\"}]}";
        String schema = s;
        // the same nesting as oneOf: its string branches overlap, so it is refused at once, never generated as anyOf
        String oneOf = s.replace("anyOf", "oneOf");
        SchemaException e = assertThrows(SchemaException.class,
                () -> assertTimeoutPreemptively(Duration.ofSeconds(3), () -> GrammarTesting.gpt2(oneOf)));
        assertTrue(e.getMessage().contains("may overlap"), e.getMessage());
        CompiledGrammar g = assertTimeoutPreemptively(Duration.ofSeconds(3), () -> GrammarTesting.gpt2(schema));
        GrammarTesting.assertValid(g, "\"abc\"");
        GrammarTesting.assertValid(g, "17");
        // {} = any value, but numbers are bounded: the model cannot emit digits forever
        CompiledGrammar any = GrammarTesting.gpt2("{}");
        GrammarTesting.assertInvalid(any, "1" + "0".repeat(40));
        assertTrue(GrammarTesting.feed(any, GrammarTesting.Gpt2.TOKENIZER, "[1, {\"a\": \"b\"}]", true));
    }
}
