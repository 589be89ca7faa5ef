package io.basalt.structured;

import org.junit.jupiter.api.Test;

import static io.basalt.structured.GrammarTesting.assertInvalid;
import static io.basalt.structured.GrammarTesting.assertValid;
import static io.basalt.structured.GrammarTesting.gpt2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each supported keyword: valid instances accepted token by token, invalid ones rejected at some prefix. */
class KeywordTest {
    @Test void types() {
        assertValid(gpt2("{\"type\":\"string\"}"), "\"hello world\"");
        assertValid(gpt2("{\"type\":\"string\"}"), "\"esc \\\" \\\\ \\n \\u00e9 東京 😀\"");
        assertInvalid(gpt2("{\"type\":\"string\"}"), "\"bad \\x\"");
        assertInvalid(gpt2("{\"type\":\"string\"}"), "\"\\ud800\"");
        assertInvalid(gpt2("{\"type\":\"string\"}"), "42");
        assertValid(gpt2("{\"type\":\"integer\"}"), "-42");
        assertInvalid(gpt2("{\"type\":\"integer\"}"), "4.2");
        assertInvalid(gpt2("{\"type\":\"integer\"}"), "042");
        assertValid(gpt2("{\"type\":\"number\"}"), "-4.25e+10");
        assertValid(gpt2("{\"type\":\"number\"}"), "0.5");
        assertInvalid(gpt2("{\"type\":\"number\"}"), "1.");
        assertInvalid(gpt2("{\"type\":\"number\"}"), ".5");
        assertValid(gpt2("{\"type\":\"boolean\"}"), "false");
        assertInvalid(gpt2("{\"type\":\"boolean\"}"), "null");
        assertValid(gpt2("{\"type\":\"null\"}"), "null");
        CompiledGrammar union = gpt2("{\"type\":[\"string\",\"null\"]}");
        assertValid(union, "null");
        assertValid(union, "\"x\"");
        assertInvalid(union, "1");
    }

    @Test void objects() {
        String s = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"},"
                + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":[\"name\"],\"additionalProperties\":false}";
        CompiledGrammar g = gpt2(s);
        assertValid(g, "{\"name\":\"Ann\",\"age\":3,\"tags\":[\"a\",\"b\"]}");
        assertValid(g, "{\"name\": \"Ann\", \"tags\": []}");
        assertValid(g, "{\n  \"name\": \"Ann\"\n}");
        assertInvalid(g, "{\"age\":3}");                       // required missing
        assertInvalid(g, "{\"name\":\"Ann\",\"other\":1}");    // additionalProperties false
        assertInvalid(g, "{\"name\":1}");
        assertInvalid(g, "{\"name\":\"a\",}");
        // additionalProperties schema
        CompiledGrammar a = gpt2("{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"additionalProperties\":{\"type\":\"boolean\"}}");
        assertValid(a, "{\"id\":1,\"x\":true,\"y\":false}");
        assertInvalid(a, "{\"id\":1,\"x\":1}");
        assertInvalid(a, "{\"x\":true,\"id\":1}");               // a declared name is not an additional key
        CompiledGrammar t = gpt2("{\"type\":\"object\",\"additionalProperties\":true}");
        assertValid(t, "{\"anything\":[1,{\"b\":null}],\"k\":\"v\"}");
        // required names not in properties
        CompiledGrammar r = gpt2("{\"type\":\"object\",\"required\":[\"a\"]}");
        assertValid(r, "{\"a\":[1,2]}");
        assertInvalid(r, "{}");
    }

    @Test void tokenBoundaryTokens() {
        CompiledGrammar g = gpt2("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"string\"}},\"required\":[\"c\"]}}},\"required\":[\"a\",\"b\"]}");
        int[] ids = GrammarTesting.Gpt2.TOKENIZER.encode("{\"a\":\"x\",\"b\":[{\"c\":\"y\"}]}");
        // the tokenization contains multi-character structural tokens such as '":"', '",' and '"}]}'
        String pieces = java.util.Arrays.stream(ids).mapToObj(i -> new String(GrammarTesting.Gpt2.VOCAB.bytes(i), java.nio.charset.StandardCharsets.UTF_8))
                .collect(java.util.stream.Collectors.joining("|"));
        assertTrue(pieces.contains("\":\"") || pieces.contains("\",") || pieces.contains("\"}"), pieces);
        assertValid(g, "{\"a\":\"x\",\"b\":[{\"c\":\"y\"}]}");
        // '"}' must be masked where the object cannot close yet
        Matcher m = g.newMatcher();
        for (int id : GrammarTesting.Gpt2.TOKENIZER.encode("{\"a\":\"x")) assertTrue(m.accept(id));
        int closeBrace = single("\"}");
        int quoteComma = single("\",");
        assertFalse(m.allows(closeBrace), "'\"}' before the required b");
        assertTrue(m.allows(quoteComma));
    }

    @Test void eosOnlyWhenAccepting() {
        CompiledGrammar g = gpt2("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]}");
        Matcher m = g.newMatcher();
        long[] mask = new long[g.vocabulary().maskWords()];
        m.fillMask(mask);
        assertEquals(0, mask[50256 >>> 6] & (1L << 50256), "<|endoftext|> is never a grammar token");
        for (int id : GrammarTesting.Gpt2.TOKENIZER.encode("{\"n\":12")) { assertFalse(m.isAccepting()); assertTrue(m.accept(id)); }
        assertFalse(m.isAccepting());
        assertTrue(m.accept(single("}")));
        assertTrue(m.isAccepting());
        assertTrue(m.isTerminated());
        m.fillMask(mask);
        for (long w : mask) assertEquals(0L, w);
        CompiledGrammar n = gpt2("{\"type\":\"integer\"}");
        Matcher mn = n.newMatcher();
        assertTrue(mn.accept(single("12")));
        assertTrue(mn.isAccepting());
        assertFalse(mn.isTerminated(), "more digits may follow");
    }

    @Test void arrays() {
        CompiledGrammar g = gpt2("{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":3}");
        assertValid(g, "[1,2]");
        assertValid(g, "[1, 2, 3]");
        assertInvalid(g, "[1]");
        assertInvalid(g, "[1,2,3,4]");
        CompiledGrammar p = gpt2("{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"items\":false}");
        assertValid(p, "[\"a\",1]");
        assertInvalid(p, "[1,\"a\"]");
        assertInvalid(p, "[\"a\",1,2]");
        CompiledGrammar d4 = gpt2("{\"type\":\"array\",\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"boolean\"},\"maxItems\":3}");
        assertValid(d4, "[\"a\",true,false]");
        assertInvalid(d4, "[\"a\",1]");
    }

    @Test void enumAndConst() {
        CompiledGrammar e = gpt2("{\"enum\":[\"red\",\"green\",1,12,null,{\"a\":[1]}]}");
        assertValid(e, "\"red\"");
        assertValid(e, "12");
        assertValid(e, "1");
        assertValid(e, "null");
        assertValid(e, "{\"a\":[1]}");
        assertInvalid(e, "\"blue\"");
        assertInvalid(e, "123");
        assertValid(gpt2("{\"const\":\"x\"}"), "\"x\"");
        assertInvalid(gpt2("{\"const\":\"x\"}"), "\"y\"");
        assertValid(gpt2("{\"type\":\"string\",\"enum\":[\"a\",1]}"), "\"a\"");
        assertInvalid(gpt2("{\"type\":\"string\",\"enum\":[\"a\",1]}"), "1");
    }

    @Test void combinators() {
        CompiledGrammar any = gpt2("{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]},"
                + "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"a\"]}]}");
        assertValid(any, "{\"a\":1}");
        assertValid(any, "{\"a\":\"s\"}");
        assertInvalid(any, "{\"a\":true}");
        CompiledGrammar one = gpt2("{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"boolean\"}]}");
        assertValid(one, "true");
        assertValid(one, "7");
        CompiledGrammar all = gpt2("{\"allOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]},"
                + "{\"properties\":{\"b\":{\"type\":\"string\"}},\"required\":[\"b\"]}]}");
        assertValid(all, "{\"a\":1,\"b\":\"x\"}");
        assertInvalid(all, "{\"a\":1}");
        SchemaException conflict = assertThrows(SchemaException.class, () -> gpt2("{\"allOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}"));
        assertEquals("allOf", conflict.keyword());
    }

    @Test void refs() {
        CompiledGrammar g = gpt2("{\"$defs\":{\"p\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\"}},\"required\":[\"x\"]}},"
                + "\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/$defs/p\"},\"b\":{\"$ref\":\"#/definitions/q\"}},\"required\":[\"a\"],"
                + "\"definitions\":{\"q\":{\"type\":\"string\"}}}");
        assertValid(g, "{\"a\":{\"x\":1},\"b\":\"s\"}");
        assertInvalid(g, "{\"a\":{\"x\":\"1\"}}");
        // bounded recursion: a tree
        CompiledGrammar tree = gpt2("{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}},\"required\":[\"v\"]}");
        assertValid(tree, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3}]},{\"v\":4}]}");
        assertInvalid(tree, "{\"v\":1,\"kids\":[{}]}");
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 30; i++) deep.append("{\"v\":1,\"kids\":[");
        deep.append("{\"v\":1}");
        for (int i = 0; i < 30; i++) deep.append("]}");
        assertInvalid(tree, deep.toString());  // beyond Limits.maxValueDepth
    }

    @Test void strings() {
        CompiledGrammar g = gpt2("{\"type\":\"string\",\"minLength\":2,\"maxLength\":4}");
        assertValid(g, "\"ab\"");
        assertValid(g, "\"東京都市\"");
        assertInvalid(g, "\"a\"");
        assertInvalid(g, "\"abcde\"");
        CompiledGrammar p = gpt2("{\"type\":\"string\",\"pattern\":\"^[A-Z]{2}-\\\\d{3}$\"}");
        assertValid(p, "\"AB-123\"");
        assertInvalid(p, "\"AB-12\"");
        assertInvalid(p, "\"ab-123\"");
        CompiledGrammar contains = gpt2("{\"type\":\"string\",\"pattern\":\"foo\"}");
        assertValid(contains, "\"a foo b\"");
        assertInvalid(contains, "\"a fo b\"");
        CompiledGrammar date = gpt2("{\"type\":\"string\",\"format\":\"date\"}");
        assertValid(date, "\"2024-02-28\"");
        assertInvalid(date, "\"2024-13-01\"");
        assertValid(gpt2("{\"type\":\"string\",\"format\":\"date-time\"}"), "\"2024-02-28T12:30:00Z\"");
        assertValid(gpt2("{\"type\":\"string\",\"format\":\"uuid\"}"), "\"123e4567-e89b-42d3-a456-426614174000\"");
        assertValid(gpt2("{\"type\":\"string\",\"format\":\"email\"}"), "\"ann.lee@example.com\"");
        assertInvalid(gpt2("{\"type\":\"string\",\"format\":\"email\"}"), "\"ann\"");
        SchemaException e = assertThrows(SchemaException.class, () -> gpt2("{\"type\":\"string\",\"pattern\":\"(?=a)b\"}"));
        assertEquals("pattern", e.keyword());
        SchemaException f = assertThrows(SchemaException.class, () -> gpt2("{\"type\":\"string\",\"format\":\"idn-email\"}"));
        assertEquals("format", f.keyword());
        // a repeat bound over 128 (xgrammar #863) compiles and is enforced
        CompiledGrammar big = gpt2("{\"type\":\"string\",\"pattern\":\"^[^\\\\n\\\\r]{1,129}$\"}");
        assertValid(big, "\"x\"");
    }

    @Test void numbers() {
        CompiledGrammar g = gpt2("{\"type\":\"integer\",\"minimum\":5,\"maximum\":120}");
        assertValid(g, "5");
        assertValid(g, "120");
        assertValid(g, "77");
        assertInvalid(g, "4");
        assertInvalid(g, "121");
        assertInvalid(g, "-5");
        CompiledGrammar ex = gpt2("{\"type\":\"number\",\"exclusiveMinimum\":0,\"maximum\":1}");
        assertValid(ex, "0.5");
        assertValid(ex, "1");
        assertInvalid(ex, "0");
        assertInvalid(ex, "1.5");
        assertInvalid(ex, "-0.5");
        CompiledGrammar huge = gpt2("{\"type\":\"integer\",\"maximum\":20000000000}");
        assertValid(huge, "19999999999");
        assertInvalid(huge, "20000000001");
    }

    @Test void jsonObjectAndWhitespace() {
        CompiledGrammar j = SchemaCompiler.jsonObject(GrammarTesting.Gpt2.VOCAB);
        assertValid(j, "{\"a\": [1, 2.5, \"x\", {\"b\": null}], \"c\": true}");
        assertInvalid(j, "[1]");
        assertInvalid(j, "\"s\"");
        CompiledGrammar c = SchemaCompiler.jsonObject(GrammarTesting.Gpt2.VOCAB, SchemaCompiler.Whitespace.COMPACT);
        assertValid(c, "{\"a\":[1]}");
        assertInvalid(c, "{\"a\": [1]}");
        assertInvalid(j, "{\"a\":" + " ".repeat(21) + "1}");
        assertValid(j, "{\"a\":" + " ".repeat(20) + "1}");
    }

    @Test void sentencePieceVocabulary() {
        CompiledGrammar g = SchemaCompiler.compile("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"n\":{\"type\":\"integer\"}},\"required\":[\"city\",\"n\"]}",
                GrammarTesting.Llama.VOCAB, Limits.DEFAULT);
        GrammarTesting.assertValidLlama(g, "{\"city\": \"東京 😀\", \"n\": 3}");
    }

    private static int single(String text) {
        int[] ids = GrammarTesting.Gpt2.TOKENIZER.encode(text);
        assertEquals(1, ids.length, text + " is one gpt2 token");
        return ids[0];
    }
}
