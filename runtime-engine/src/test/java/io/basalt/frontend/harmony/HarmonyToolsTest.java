package io.basalt.frontend.harmony;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.basalt.frontend.tools.Tool;
import io.basalt.tokenizer.Tokenizers;
import java.util.List;
import org.junit.jupiter.api.Test;

/** json_schema_to_typescript rules beyond harmony's golden files (read from its code), and the tool message forms. */
class HarmonyToolsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String ts(String schema) throws Exception { return HarmonyTools.typeScript(JSON.readTree(schema), ""); }

    @Test
    void types() throws Exception {
        assertEquals("number", ts("{\"type\":\"integer\",\"minimum\":3}"));        // constraints are not shown
        assertEquals("number | string | null", ts("{\"type\":[\"integer\",\"string\",\"null\"]}"));
        assertEquals("Array<any>", ts("{\"type\":\"array\"}"));
        assertEquals("\"a\" | \"b\"[]", ts("{\"type\":\"array\",\"items\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}}"));
        assertEquals("any", ts("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}"));
        assertEquals("any", ts("{\"$ref\":\"#/$defs/x\"}"));
        assertEquals("any", ts("{\"enum\":[1,2]}"));
        assertEquals("any", ts("{\"type\":\"null\"}"));
        assertEquals("boolean", ts("{\"type\":\"boolean\"}"));
    }

    @Test
    void nestedObjectsIndentFourSpacesPerLevel() throws Exception {
        // harmony closes a nested object at the nested indent ("    },"): kept, the model was trained on it.
        assertEquals("""
                {
                point: {
                    // x axis
                    x: number,
                    y?: number, // default: 0.5
                    },
                tags?: string[], // default: ["a","b"]
                mode?: "fast" | "slow", // default: fast
                }""", ts("""
                {"type":"object","required":["point"],"properties":{
                  "point":{"type":"object","required":["x"],"properties":{"x":{"type":"number","description":"x axis"},
                                                                       "y":{"type":"number","default":0.5}}},
                  "tags":{"type":"array","items":{"type":"string"},"default":["a","b"]},
                  "mode":{"type":"string","enum":["fast","slow"],"default":"fast"}}}"""));
        assertEquals("{\n}", ts("{\"type\":\"object\"}"));
    }

    @Test
    void defaultsAreWrittenAsSerdeJsonWritesThem() {
        assertEquals("1e20", HarmonyTools.ryu(1e20));
        assertEquals("1e-7", HarmonyTools.ryu(1e-7));
        assertEquals("0.00001", HarmonyTools.ryu(1e-5));
        assertEquals("1.0", HarmonyTools.ryu(1.0));
        assertEquals("-2.5", HarmonyTools.ryu(-2.5));
        assertEquals("1000000000000000.0", HarmonyTools.ryu(1e15));
        assertEquals("1e16", HarmonyTools.ryu(1e16));
        assertEquals("1.5e300", HarmonyTools.ryu(1.5e300));
    }

    @Test
    void functionSectionShapes() {
        String section = HarmonyTools.section(List.of(HarmonyToolNamespace.functions(List.of(
                new Tool("noop", null, null), new Tool("empty", "Two\nlines.", "{\"type\":\"object\",\"properties\":{}}")))));
        assertEquals("""
                # Tools

                ## functions

                namespace functions {

                type noop = () => any;

                // Two
                // lines.
                type empty = (_: {
                }) => any;

                } // namespace functions""", section);
        assertThrows(IllegalArgumentException.class,
                () -> HarmonyTools.section(List.of(HarmonyToolNamespace.functions(List.of(new Tool("bad", "x", "{nope"))))));
    }

    @Test
    void noFunctionsNoCommentaryLine() {
        String text = Tokenizers.o200kHarmony().decode(Harmony.gptOss().render(
                new HarmonyConversation(HarmonySystem.defaults(), null, List.of(HarmonyMessage.user("hi")), List.of())));
        assertEquals(false, text.contains("Calls to these tools"));
        assertEquals(false, text.contains("<|start|>developer"));
    }
}
