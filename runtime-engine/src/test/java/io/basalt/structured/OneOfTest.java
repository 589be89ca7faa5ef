package io.basalt.structured;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** oneOf is generated as anyOf only when its branches provably exclude each other (OneOfExclusion). */
class OneOfTest {
    static void accepted(String schema, String valid, String invalid) {
        CompiledGrammar g = GrammarTesting.gpt2(schema);
        GrammarTesting.assertValid(g, valid);
        GrammarTesting.assertInvalid(g, invalid);
    }

    static void refused(String schema) {
        SchemaException e = assertThrows(SchemaException.class, () -> GrammarTesting.gpt2(schema));
        assertEquals("oneOf", e.keyword(), e.getMessage());
    }

    @Test void differentTypesAreExclusive() {
        accepted("{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"},{\"type\":\"null\"}]}", "null", "true");
    }

    @Test void aDiscriminatorWithOtherConstValuesIsExclusive() {
        String cat = "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"cat\"},\"lives\":{\"type\":\"integer\"}},\"required\":[\"kind\"]}";
        String dog = "{\"type\":\"object\",\"properties\":{\"kind\":{\"enum\":[\"dog\",\"wolf\"]},\"bark\":{\"type\":\"boolean\"}},\"required\":[\"kind\"]}";
        accepted("{\"oneOf\":[" + cat + "," + dog + "]}", "{\"kind\": \"wolf\"}", "{\"kind\": \"cow\"}");
        // the same through $ref, as OpenAPI-style schemas write it
        accepted("{\"$defs\":{\"cat\":" + cat + ",\"dog\":" + dog + "},\"oneOf\":[{\"$ref\":\"#/$defs/cat\"},{\"$ref\":\"#/$defs/dog\"}]}",
                "{\"kind\": \"cat\", \"lives\": 9}", "{\"kind\": \"cat\", \"bark\": true}");
    }

    @Test void aRequiredKeyTheOtherBranchForbidsIsExclusive() {
        accepted("{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"a\":{}},\"required\":[\"a\"],\"additionalProperties\":false},"
                + "{\"type\":\"object\",\"properties\":{\"b\":{}},\"required\":[\"b\"],\"additionalProperties\":false}]}",
                "{\"b\": 1}", "{}");
    }

    @Test void overlappingBranchesAreRefused() {
        // JSONSchemaBench Github_trivial o41582: both branches accept {} (and {"dog": "x"}: the cat branch allows other keys)
        refused("{\"type\":\"object\",\"oneOf\":[{\"properties\":{\"dog\":{\"type\":\"string\"}}},{\"properties\":{\"cat\":{\"type\":\"string\"}}}]}");
        refused("{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}");                  // 1 is both
        refused("{\"oneOf\":[{\"type\":\"string\"},{\"maxLength\":3}]}");                        // "ab" is both
        // a required key alone does not exclude: the other branch allows additional keys
        refused("{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"a\":{}},\"required\":[\"a\"]},{\"type\":\"object\",\"properties\":{\"b\":{}}}]}");
    }
}
